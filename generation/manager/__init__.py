"""The model manager: one worker thread per process that owns the device and the pipeline.

A plain Python package. Its core (``worker``) takes its collaborators as arguments — a job
store, an event publisher and a pipeline loader — so tests run it with the tiny pipeline and
a recording publisher, and a worker command can run the same class in its own process.
Torch and diffusers are imported lazily, only when a pipeline is actually loaded.
"""
