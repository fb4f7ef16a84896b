"""The live monitor (``jamwatch watch``): feeds in, events, alerts and a live API out."""
