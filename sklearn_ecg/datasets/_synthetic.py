def make_synthetic_ecg(*args, **kwargs):  # placeholder until the generator lands
    raise NotImplementedError
