"""Constructors of fixed filterbanks, each returning a :class:`fbinit.Filterbank`."""

from fbinit.banks.gabor import gabor, gabor_impulse_responses, mel_gabor_parameters
from fbinit.banks.gammatone import erb_frequencies, gammatone
from fbinit.banks.mel import mel
from fbinit.banks.random import gaussian
from fbinit.banks.sinc import sinc, sinc_impulse_responses
from fbinit.banks.third_octave import third_octave, third_octave_frequencies
from fbinit.banks.wavelet import wavelet

__all__ = [
    "erb_frequencies",
    "gabor",
    "gabor_impulse_responses",
    "gammatone",
    "gaussian",
    "mel",
    "mel_gabor_parameters",
    "sinc",
    "sinc_impulse_responses",
    "third_octave",
    "third_octave_frequencies",
    "wavelet",
]
