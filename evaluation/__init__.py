"""The offline evaluation harness, above the answer pipeline: question-file readers and samplers
(`questions`), answer and retrieval metrics with paired bootstrap CIs (`metrics`), offline BERTScore with our
own rescaling baseline (`bertscore`), RAG-vs-plain runs written as reports (`evaluate`), and run-vs-run
comparison (`compare`)."""
