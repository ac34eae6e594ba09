"""The Filterbank representation and its coercion."""

import numpy as np
import pytest
import torch

from fbinit import Filterbank, ParameterError, as_filterbank


class ImpulseResponses:
    stride = 2
    sample_rate = 8000.0

    def impulse_responses(self):
        return torch.ones(3, 5, dtype=torch.float32)


def test_coercion_of_every_accepted_type():
    w = np.arange(6.0).reshape(2, 3)
    for obj in (w, torch.tensor(w), Filterbank(torch.tensor(w))):
        fb = as_filterbank(obj)
        assert fb.weights.dtype == torch.float64
        assert torch.equal(fb.weights, torch.tensor(w))
    fb = as_filterbank(ImpulseResponses())
    assert (fb.stride, fb.sample_rate, fb.n_filters, fb.kernel_size) == (2, 8000.0, 3, 5)
    conv = torch.nn.Conv1d(1, 4, 7, stride=3, bias=False)
    fb = as_filterbank(conv)
    assert fb.stride == 3 and fb.weights.shape == (4, 7)
    assert torch.equal(fb.weights, conv.weight.detach()[:, 0].double())
    assert as_filterbank(conv, stride=1).stride == 1


def test_complex_bank_as_real_bank_stacks_parts():
    w = torch.randn(2, 3, 4, dtype=torch.complex128)
    fb = Filterbank(w).real_part_bank()
    assert fb.weights.shape == (2, 6, 4)
    assert torch.equal(fb.weights[:, :3], w.real) and torch.equal(fb.weights[:, 3:], w.imag)


def test_batch_indexing():
    fb = Filterbank(torch.zeros(5, 2, 3), stride=2)
    assert fb.batch_shape == (5,)
    assert fb[1:3].batch_shape == (2,) and fb[0].batch_shape == ()
    with pytest.raises(IndexError, match="no batch dimension"):
        fb[0][0]


def test_errors():
    with pytest.raises(ParameterError, match=r"weights.ndim=1 must be >= 2"):
        Filterbank(torch.zeros(3))
    with pytest.raises(ParameterError, match=r"stride=0 must be an integer >= 1"):
        Filterbank(torch.zeros(2, 3), stride=0)
    with pytest.raises(TypeError, match=r"stride=1.5 must be an integer"):
        Filterbank(torch.zeros(2, 3), stride=1.5)
    with pytest.raises(ParameterError, match=r"sample_rate=-1.0 must be a finite number > 0"):
        Filterbank(torch.zeros(2, 3), sample_rate=-1)
    with pytest.raises(ParameterError, match=r"band=\(100, 9000\) must satisfy"):
        Filterbank(torch.zeros(2, 3), sample_rate=16000, band=(100, 9000))
    with pytest.raises(ParameterError, match="must hold only finite values"):
        as_filterbank(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(TypeError, match="impulse_responses"):
        as_filterbank("not a bank")
    with pytest.raises(ParameterError, match=r"in_channels=2 must be 1"):
        as_filterbank(torch.nn.Conv1d(2, 4, 3))


def test_multirate_strides():
    fb = Filterbank(torch.zeros(3, 5), stride=[1, 2, 4])
    assert fb.is_multirate and fb.strides == (1, 2, 4) and fb.period == 4
    # one stride per filter, equal entries collapse to one int, 1-tuples read as Conv1d's
    assert Filterbank(torch.zeros(3, 5), stride=(2, 2, 2)).stride == 2
    assert Filterbank(torch.zeros(3, 5), stride=(3,)).stride == 3
    assert not Filterbank(torch.zeros(3, 5), stride=2).is_multirate
    complex_fb = Filterbank(torch.zeros(2, 5, dtype=torch.complex128), stride=[1, 2])
    assert complex_fb.real_part_bank().strides == (1, 2, 1, 2)
    with pytest.raises(ParameterError, match=r"len\(stride\)=2 must be 1 or n_filters=3"):
        Filterbank(torch.zeros(3, 5), stride=[1, 2])
    with pytest.raises(ParameterError, match=r"stride\[1\]=0 must be an integer >= 1"):
        Filterbank(torch.zeros(3, 5), stride=[1, 0, 2])
    with pytest.raises(TypeError, match=r"stride='2' must be an integer or a sequence"):
        Filterbank(torch.zeros(3, 5), stride="2")


def test_filterbank_like_band_is_read():
    class Like:
        stride = (2,)
        sample_rate = 8000.0
        band = (100.0, 3000.0)

        def impulse_responses(self):
            return torch.ones(2, 4)

    fb = as_filterbank(Like())
    assert (fb.stride, fb.sample_rate, fb.band) == (2, 8000.0, (100.0, 3000.0))
