"""Notebook helpers: the flow drawn as SVG and the `%%flow` cell magic."""
