def load_physionet(*args, **kwargs):  # placeholder until the loader lands
    raise NotImplementedError
