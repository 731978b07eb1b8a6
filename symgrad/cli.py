"""Work in progress."""

def main(*args, **kwargs):
    raise NotImplementedError("main is not implemented yet")
