"""Work in progress."""

def Objective(*args, **kwargs):
    raise NotImplementedError("Objective is not implemented yet")
