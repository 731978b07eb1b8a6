"""Work in progress."""

def Tensor(*args, **kwargs):
    raise NotImplementedError("Tensor is not implemented yet")

def grad(*args, **kwargs):
    raise NotImplementedError("grad is not implemented yet")
