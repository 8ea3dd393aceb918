"""The model manager: one worker thread per process that owns the device and the pipeline.

A plain Python package that imports and runs without Django (a test holds it to that). Its core
(``worker``, ``batch``, ``fairness``) takes its collaborators as arguments — a job store, an
event publisher, a pipeline loader, the clocks — and knows them only by the protocols in
``types``; the Django-backed store and the Channels publisher live in ``generation.adapters``.
``worker.ModelManager`` hands each batch a ``batch.BatchContext`` with exactly what a batch may
use, so the batch never reaches back into the manager. Torch and diffusers are imported
lazily, only when a pipeline is actually loaded.
"""
