"""Catalog files → Movie records → passages → a FAISS + BM25 index on disk: decoding and format detection
(`detect`), field normalisation and readers (`formats`, `sources`), passages (`passages`), the on-disk store and its
load checks (`store`), the atomic build and upsert-by-hash add (`build`), and the catalog store for exact queries
over the same Movie records (`catalog`)."""
