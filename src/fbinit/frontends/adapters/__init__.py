"""Third-party frontends read as filterbanks: one adapter per peer family, and a Dirac probe.

:func:`adapt` finds the adapter of a module from its class (walking its MRO, so
subclasses are covered) without importing any peer library, and probes any other module
(:func:`~fbinit.frontends.adapters.probe.probe`). ``fbinit.as_filterbank`` and
``fbinit.impulse_responses_of`` call it for every ``torch.nn.Module`` that has no
``impulse_responses()`` method.

===========================  ===================================================
family (import name)         classes
===========================  ===================================================
torch                        ``nn.Conv1d``, ``nn.ConvTranspose1d``
asteroid_filterbanks         every ``Filterbank`` subclass, ``Encoder``
nnAudio                      ``CQT1992v2``, ``STFT``, ``MelSpectrogram``, ``Gammatonegram``
murenn                       ``MuReNNDirect`` (multirate)
hybra                        ``ISAC``, ``HybrA``
torchaudio                   ``transforms.Spectrogram``, ``transforms.MelSpectrogram``
===========================  ===================================================
"""

from __future__ import annotations

import importlib
from typing import Any

from fbinit.frontends.adapters.base import Adapted, analysis_coefficients
from fbinit.frontends.adapters.power import EnergyBounds, energy_bounds, power_frontend
from fbinit.frontends.adapters.probe import probe

__all__ = [
    "Adapted",
    "EnergyBounds",
    "adapt",
    "adapter_for",
    "analysis_coefficients",
    "energy_bounds",
    "power_frontend",
    "probe",
]

#: top-level package of each peer family -> the module of fbinit holding its adapters
FAMILIES = {
    "torch": "torch_nn",
    "asteroid_filterbanks": "asteroid",
    "nnAudio": "nnaudio",
    "murenn": "murenn",
    "hybra": "hybra",
    "torchaudio": "torchaudio",
}


def adapter_for(module: Any):
    """The adapter function of a module's class (or of its nearest base class), or None."""
    for cls in type(module).__mro__:
        family = FAMILIES.get(cls.__module__.split(".")[0])
        if family is None:
            continue
        table = importlib.import_module(f"fbinit.frontends.adapters.{family}").ADAPTERS
        if cls.__name__ in table:
            return table[cls.__name__]
    return None


def adapt(module: Any, **options: Any) -> Adapted:
    """Read a module's analysis stage: its family's adapter, or else the Dirac probe.

    Parameters
    ----------
    module : torch.nn.Module or callable
    **options
        Keyword arguments of the adapter (e.g. ``sample_rate``; ``lowpass`` for
        MuReNNDirect; ``n_samples`` or ``rtol`` for the probe).

    Returns
    -------
    Adapted

    Examples
    --------
    >>> import torch
    >>> adapted = adapt(torch.nn.Conv1d(1, 4, 16, stride=8, padding=4))
    >>> adapted.bank.n_filters, adapted.bank.stride, adapted.padding
    (4, 8, ((4, 4, 'constant'),))
    """
    adapter = adapter_for(module)
    if adapter is not None:
        return adapter(module, **options)
    from fbinit.frontends.adapters.probe import probe_module

    return probe_module(module, **options)
