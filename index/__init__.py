"""Catalog files → Movie records → passages → a FAISS + BM25 index on disk: schemas and field normalisation
(`formats`), decoding and format detection (`detect`), the readers (`sources`), passages (`passages`), the
on-disk store and its load checks (`store`), and the atomic build and upsert-by-hash add (`build`)."""
