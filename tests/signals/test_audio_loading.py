"""Audio loading and the bundled examples: round trips, resampling and every error path."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
import soundfile

from fbinit.errors import AudioError, ParameterError
from fbinit.signals import audio, example, example_path, list_examples, load

QUANTUM = 1 / 32768  # one step of 16-bit PCM (libsndfile may truncate, not round)


@pytest.fixture
def stereo(tmp_path):
    """A 16-bit stereo WAV of two sines, and its float samples, shape (frames, 2)."""
    rng = np.random.default_rng(0)
    t = np.arange(4000) / 16000
    data = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * rng.standard_normal(t.size)], 1)
    data = np.clip(data, -0.99, 0.99)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, data, 16000, subtype="PCM_16")
    return path, data


def write_float(path, samples, sample_rate=16000):
    soundfile.write(path, np.asarray(samples, dtype=np.float64), sample_rate, subtype="DOUBLE")
    return path


# --------------------------------------------------------------------------- reading


def test_load_mono_is_the_channel_mean(stereo):
    path, data = stereo
    x, sr = load(path)
    assert sr == 16000 and isinstance(sr, int)
    assert x.shape == (4000,) and x.dtype == np.float64
    np.testing.assert_allclose(x, data.mean(axis=1), atol=QUANTUM)


def test_load_multichannel_is_channel_first(stereo):
    path, data = stereo
    x, sr = load(path, mono=False)
    assert x.shape == (2, 4000) and x.dtype == np.float64 and x.flags.c_contiguous
    np.testing.assert_allclose(x, data.T, atol=QUANTUM)


def test_load_float_file_is_exact(tmp_path):
    samples = np.random.default_rng(1).uniform(-2, 2, 300)  # float formats may exceed [-1, 1]
    x, sr = load(write_float(tmp_path / "f.wav", samples, 8000))
    np.testing.assert_array_equal(x, samples)
    assert sr == 8000
    x2, _ = load(str(tmp_path / "f.wav"), sample_rate=8000)  # str path; same rate: untouched
    np.testing.assert_array_equal(x2, samples)


@pytest.mark.parametrize(("rate_in", "rate_out"), [(16000, 22050), (44100, 16000), (22050, 8000)])
def test_resampling_preserves_an_in_band_sine(tmp_path, rate_in, rate_out):
    n, f = rate_in, 300.0  # 1 s
    path = write_float(tmp_path / "s.wav", np.sin(2 * np.pi * f * np.arange(n) / rate_in), rate_in)
    y, sr = load(path, sample_rate=rate_out)
    assert sr == rate_out
    assert y.shape == (int(np.ceil(n * rate_out / rate_in)),)
    middle = slice(rate_out // 10, -rate_out // 10)  # away from the filter's edge transients
    expected = np.sin(2 * np.pi * f * np.arange(y.size) / rate_out)
    assert np.max(np.abs(y[middle] - expected[middle])) < 2e-3


def test_resampling_removes_content_above_the_new_nyquist(tmp_path):
    rate_in = 44100
    tone = np.sin(2 * np.pi * 7000.0 * np.arange(rate_in) / rate_in)  # above 4 kHz
    y, _ = load(write_float(tmp_path / "hi.wav", tone, rate_in), sample_rate=8000)
    middle = slice(800, -800)
    assert np.sqrt(np.mean(y[middle] ** 2)) < 1e-2 * np.sqrt(np.mean(tone**2))


def test_resampling_multichannel(stereo):
    path, _ = stereo
    y, sr = load(path, sample_rate=8000, mono=False)
    assert sr == 8000 and y.shape == (2, 2000)
    mono, _ = load(path, sample_rate=8000)
    np.testing.assert_allclose(y.mean(axis=0), mono, atol=1e-12)  # both linear


def test_streaming_wav_with_unknown_length_is_not_called_truncated(tmp_path, stereo):
    path, data = stereo
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", 0xFFFFFFFF)  # RIFF size: "unknown", as pipes write it
    raw[40:44] = struct.pack("<I", 0xFFFFFFFF)  # data size
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(bytes(raw))
    x, _ = load(streamed, mono=False)
    np.testing.assert_allclose(x, data.T, atol=QUANTUM)


def test_silent_file_warns_but_loads(tmp_path):
    path = write_float(tmp_path / "silence.wav", np.zeros(100))
    with pytest.warns(UserWarning, match=r"path='.*silence.wav' is silent"):
        x, _ = load(path)
    np.testing.assert_array_equal(x, np.zeros(100))


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match=r"path='.*nothing.wav' does not exist"):
        load(tmp_path / "nothing.wav")


def test_audio_error_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        load(tmp_path / "nothing.wav")


def test_directory(tmp_path):
    with pytest.raises(AudioError, match=r"is a directory \(must be an audio file\)"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.wav", b"this is not audio at all " * 20, "Format not recognised"),
        ("text.flac", b"fLaC but nothing else", ""),
        ("header.raw", b"\x00\x01" * 50, "samplerate must be specified"),
    ],
)
def test_unreadable_or_unsupported(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError, match=rf"path='.*{name}' cannot be read as audio: .*{reason}"):
        load(path)


@pytest.mark.parametrize("keep", [100, 1000, 15999])
def test_truncated_wav(tmp_path, stereo, keep):
    path, _ = stereo
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(
        AudioError, match=r"path='.*cut.wav' is truncated: its header declares 16000 bytes"
    ):
        load(cut)


def test_truncated_wav_header(tmp_path, stereo):
    path, _ = stereo
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError, match=r"path='.*cut.wav' cannot be read as audio"):
        load(cut)


@pytest.mark.parametrize(("fmt", "match"), [("AIFF", "is truncated"), ("FLAC", "cannot be read")])
def test_truncated_other_formats(tmp_path, stereo, fmt, match):
    _, data = stereo
    full = tmp_path / f"full.{fmt.lower()}"
    soundfile.write(full, data, 16000, format=fmt)
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(AudioError, match=rf"path='.*cut.{fmt.lower()}' {match}"):
        load(cut)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    path = write_float(tmp_path / "bad.wav", [0.1, bad, 0.2, bad])
    with pytest.raises(
        ParameterError, match=r"path='.*bad.wav' holds 2 NaN or Inf samples; .* must be finite"
    ):
        load(path)


def test_empty_file(tmp_path):
    path = write_float(tmp_path / "empty.wav", np.zeros(0))
    with pytest.raises(AudioError, match=r"path='.*empty.wav' holds no samples"):
        load(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sample_rate": 22050.5}, ParameterError, r"sample_rate=22050.5 must be a whole number"),
        ({"sample_rate": 0}, ParameterError, r"sample_rate=0 must be a whole number of Hz > 0"),
        ({"sample_rate": float("nan")}, ParameterError, r"sample_rate=nan must be a whole"),
        ({"sample_rate": "16k"}, TypeError, r"sample_rate='16k' must be a number of Hz"),
        ({"mono": "yes"}, TypeError, r"mono='yes' must be a bool"),
    ],
)
def test_bad_arguments(stereo, kwargs, error, match):
    path, _ = stereo
    with pytest.raises(error, match=match):
        load(path, **kwargs)


def test_bad_path_type():
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        load(123)


# --------------------------------------------------------------------------- examples


def test_bundled_example():
    assert "arctic_a0007" in list_examples()
    path = example_path("arctic_a0007")
    assert path.is_file() and (path.parent / "COPYING").is_file()
    assert (path.parent / "README.md").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, sr = example()
    assert sr == 16000 and x.shape == (64000,) and x.dtype == np.float64
    assert np.isfinite(x).all() and 0 < np.max(np.abs(x)) <= 1
    # 16-bit PCM: every sample is a multiple of 2^-15
    np.testing.assert_array_equal(x * 32768, np.round(x * 32768))


def test_bundled_example_resampled():
    x, sr = example("arctic_a0007", sample_rate=22050)
    assert sr == 22050 and x.shape == (88200,)


def test_unknown_example_lists_the_names():
    with pytest.raises(ParameterError, match=r"name='speech' must be one of 'arctic_a0007'"):
        example("speech")


def test_missing_examples_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "__file__", str(tmp_path / "a" / "b" / "c" / "audio.py"))
    with pytest.raises(AudioError, match="the bundled audio examples were not found"):
        example()


# ------------------------------------------------------------ compressed formats cut short


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(4).uniform(-0.5, 0.5, 3 * 16000)


def _ogg_pages(data: bytes) -> list[int]:
    """Offsets where the Ogg pages of ``data`` end (an independent walk of the headers)."""
    ends, pos = [], 0
    while pos < len(data):
        n_seg = data[pos + 26]
        pos += 27 + n_seg + sum(data[pos + 27 : pos + 27 + n_seg])
        ends.append(pos)
    return ends


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.999])
def test_truncated_ogg_is_an_audio_error(tmp_path, noise, subtype, keep):
    full = tmp_path / "full.ogg"
    soundfile.write(
        full, noise, 16000 if subtype == "VORBIS" else 48000, format="OGG", subtype=subtype
    )
    assert load(full)[0].size > 0  # the whole file loads
    data = full.read_bytes()
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(AudioError, match=r"path='.*cut.ogg' (is truncated|cannot be read)"):
        load(cut)


def test_ogg_cut_at_a_page_boundary_is_an_audio_error(tmp_path, noise):
    full = tmp_path / "full.ogg"
    soundfile.write(full, noise, 16000, format="OGG", subtype="VORBIS")
    data = full.read_bytes()
    ends = _ogg_pages(data)
    assert ends[-1] == len(data) and len(ends) > 3
    # the page walk alone (independent of libsndfile's log) sees what is missing
    assert audio._ogg_truncation(data) is None
    assert (
        audio._ogg_truncation(data[: ends[-2]]) == "the stream ends without its end-of-stream page"
    )
    assert audio._ogg_truncation(data[: ends[-2] + 30]).startswith("its last Ogg page is cut off")
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(data[: ends[-2]])
    with pytest.raises(AudioError, match=r"path='.*cut.ogg' is truncated: the stream ends"):
        load(cut)


def _mp3_frames(data: bytes, start: int) -> list[int]:
    """Offsets where the MPEG-2 layer III frames of ``data`` end (16 kHz, as written here)."""
    ends, pos = [], start
    rates = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        bitrate = rates[data[pos + 2] >> 4] * 1000
        pos += 72 * bitrate // 16000 + ((data[pos + 2] >> 1) & 1)
        ends.append(pos)
    return ends


@pytest.mark.parametrize("keep", [0.05, 0.4, 0.8, 0.999])
def test_truncated_mp3_is_an_audio_error(tmp_path, noise, keep):
    full = tmp_path / "full.mp3"
    soundfile.write(full, noise, 16000, format="MP3")
    x, _ = load(full)
    assert x.size == noise.size
    data = full.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(
        AudioError, match=r"path='.*cut.mp3' (is truncated: its header declares|cannot be read)"
    ):
        load(cut)


def test_mp3_without_xing_header_cut_inside_a_frame(tmp_path, noise):
    full = tmp_path / "full.mp3"
    soundfile.write(full, noise, 16000, format="MP3")
    data = full.read_bytes()
    ends = _mp3_frames(data, 0)
    assert ends[-1] == len(data)
    bare = data[ends[0] :]  # without the first frame, which holds the Xing header
    assert audio._mpeg_truncation(bare) is None
    tagged = b"ID3\x03\x00\x00\x00\x00\x00\x05hello" + bare + b"TAG" + bytes(125)
    assert audio._mpeg_truncation(tagged) is None  # ID3v2 and ID3v1 tags are skipped
    inside = ends[len(ends) // 2] - ends[0] + 7  # 7 bytes into a frame
    assert audio._mpeg_truncation(bare[:inside]).startswith("its last MPEG frame is cut off")
    cut = tmp_path / "bare.mp3"
    cut.write_bytes(bare[:inside])
    with pytest.raises(AudioError, match=r"is truncated: its last MPEG frame is cut off"):
        load(cut)


def test_resampling_beyond_the_memory_limit_is_refused(stereo):
    path, _ = stereo
    with pytest.raises(ParameterError, match=r"sample_rate=\d+ must be smaller: resampling"):
        load(path, sample_rate=10**12 + 1)
