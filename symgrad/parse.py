"""Work in progress."""

def parse(*args, **kwargs):
    raise NotImplementedError("parse is not implemented yet")
