"""Data sharing agreements as code: the file (model, schema, catalogue), its checks, the
one place that enforces it (``enforce``), and the drafts the wizard writes."""
