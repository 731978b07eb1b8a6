"""Work in progress."""

def minimize(*args, **kwargs):
    raise NotImplementedError("minimize is not implemented yet")

def fit(*args, **kwargs):
    raise NotImplementedError("fit is not implemented yet")

def Result(*args, **kwargs):
    raise NotImplementedError("Result is not implemented yet")
