"""Work in progress."""

def Adam(*args, **kwargs):
    raise NotImplementedError("Adam is not implemented yet")
