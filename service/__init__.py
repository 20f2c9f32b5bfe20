"""Retrieval, answering and the HTTP service of dafu."""
