"""Run-time patches that the bench can apply to a server it starts, to measure a change before
anyone makes it in the project. Each lives in its own directory as a `sitecustomize` module and is
put first on that server's PYTHONPATH only; nothing here is imported by the assistant itself."""
