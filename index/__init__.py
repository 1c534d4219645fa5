"""Movie catalogs → Movie records → passages → a FAISS + BM25 index on disk."""
