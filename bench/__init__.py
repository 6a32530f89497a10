"""`make bench`: latency, throughput, memory, training and start-up figures under bounded loopback load.

Our assistant and a stock `rasa init` assistant (the reference) are started on free loopback
ports in turn and driven with the same message mix; see docs/benchmarks.md.
"""
