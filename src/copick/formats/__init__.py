"""On-disk formats: zarr stores, OME-NGFF multiscale images, and the other file formats copick reads."""
