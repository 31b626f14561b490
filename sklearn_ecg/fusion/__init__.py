"""Multi-label classification by gated fusion of ECG modalities (time series and spectrogram).

:class:`GatedFusionClassifier` is the paper's model, trained end to end on
signals from the branches of :func:`make_fusion_branches`;
:class:`FeatureFusionClassifier` fuses embeddings computed beforehand.
"""

from ._branches import make_fusion_branches
from ._feature_fusion import FeatureFusionClassifier
from ._gated_fusion import GatedFusionClassifier

__all__ = ["FeatureFusionClassifier", "GatedFusionClassifier", "make_fusion_branches"]
