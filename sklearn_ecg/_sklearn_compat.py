"""The private scikit-learn names sklearn-ecg relies on, imported in this one module.

scikit-learn may rename or change its private helpers in any release;
importing them only here makes such a change a one-file fix. Every other
module imports them from here, under public names:

- ``fit_context`` (``sklearn.base._fit_context``): parameter validation
  before ``fit``, as scikit-learn's own estimators do it.
- ``Interval``, ``StrOptions``, ``Options``, ``HasMethods``
  (``sklearn.utils._param_validation``): the constraints of
  ``_parameter_constraints``.
- ``BaseComposition`` (``sklearn.utils.metaestimators._BaseComposition``):
  nested ``<name>__<parameter>`` parameters of a list of named estimators.
- ``num_samples`` (``sklearn.utils.validation._num_samples``): the number of
  records of any array-like, DataFrame or list.
- ``safe_indexing`` (``sklearn.utils._safe_indexing``): rows of any
  array-like, DataFrame or list.
- ``Scorer`` (``sklearn.metrics._scorer._Scorer``): the class ``make_scorer``
  returns; subclassing it keeps a scorer in ``cross_validate``'s shared
  prediction cache.
"""

from sklearn.base import _fit_context as fit_context
from sklearn.metrics._scorer import _Scorer as Scorer
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition
from sklearn.utils.validation import _num_samples as num_samples

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Interval",
    "Options",
    "Scorer",
    "StrOptions",
    "fit_context",
    "num_samples",
    "safe_indexing",
]
