"""Parsing, chunking, embedding and both indexes (FAISS, BM25) of dafu."""
