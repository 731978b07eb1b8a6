"""Work in progress."""

def gradient(*args, **kwargs):
    raise NotImplementedError("gradient is not implemented yet")

def jacobian(*args, **kwargs):
    raise NotImplementedError("jacobian is not implemented yet")

def hessian(*args, **kwargs):
    raise NotImplementedError("hessian is not implemented yet")
