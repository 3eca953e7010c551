"""Run the generated stack on 127.0.0.1: `make local` and its parts (the local API gateway among them)."""
