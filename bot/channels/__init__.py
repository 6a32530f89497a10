"""Custom Rasa input channels (registered in bot/credentials.yml).

Importing them changes nothing in Rasa or Sanic: the server's entry point (bot/entry.py) applies
the patches in bot/patches/ before it starts the server.
"""
