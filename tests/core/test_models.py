"""core.models: the plot generator's resolution and the weight-sharing adapter view."""
from __future__ import annotations

import pytest

from core.config import ModelConfig, Settings
from core.errors import ModelUnavailable
from core.models import adapter_view, load_generator, load_plot_generator, resolve_generator, resolve_plot_generator
from tests.tiny_adapters import make_lora_adapter


@pytest.fixture(scope="module")
def adapters(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    qa = make_lora_adapter(tiny_gpt2_dir, root / "qa", seed=1)
    return qa, make_lora_adapter(tiny_gpt2_dir, root / "plot", seed=2)


def _settings(**overrides) -> Settings:
    return Settings().with_overrides(progress=False, num_threads=1, **overrides)


def _logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits


def test_plot_generator_falls_back_when_absent_off_or_the_answer_model(monkeypatch, tmp_path, adapters):
    qa, plot = adapters
    answer = resolve_generator(_settings(generator=str(qa)))
    missing = str(tmp_path / "no-plot-adapter")
    monkeypatch.setattr(ModelConfig, "plot_generator", missing)  # the shipped default, not installed here
    assert resolve_plot_generator(_settings(plot_generator=missing), answer) is None
    assert resolve_plot_generator(_settings(plot_generator="none"), answer) is None
    assert resolve_plot_generator(_settings(plot_generator=str(qa)), answer) is None  # plots use the answer model
    assert resolve_plot_generator(_settings(plot_generator=str(plot)), answer).adapter == str(plot)
    with pytest.raises(ModelUnavailable) as err:  # set explicitly: a typo is an error, not a silent fallback
        resolve_plot_generator(_settings(plot_generator=str(tmp_path / "typo" / "x")), answer)
    assert "\n" not in str(err.value)


def test_adapter_view_is_base_plus_plot_and_leaves_the_answer_model_alone(adapters):
    import torch

    qa, plot = adapters
    answer_model, _, _ = load_generator(_settings(generator=str(qa)))  # base + QA adapter, merged
    reference, _, _ = load_generator(_settings(generator=str(plot)))  # base + plot adapter, merged
    ids = [5, 17, 42, 8, 99, 3]
    before = _logits(answer_model, ids)
    view = adapter_view(answer_model, str(plot), merged_adapter=str(qa))
    assert torch.allclose(_logits(view, ids), _logits(reference, ids), atol=1e-4)
    assert not torch.allclose(_logits(view, ids), before, atol=1e-2)  # the test can tell the two apart
    assert torch.equal(_logits(answer_model, ids), before)  # answers are unchanged
    shared = {p.data_ptr() for p in answer_model.parameters()}
    base_weights = [p for n, p in view.named_parameters() if "lora_" not in n]
    assert base_weights and all(p.data_ptr() in shared for p in base_weights)  # no copy of the base


def test_load_plot_generator_views_the_same_base_and_loads_others(adapters, tiny_gpt2_dir):
    qa, plot = adapters
    settings = _settings(generator=str(qa), plot_generator=str(plot))
    model, tokenizer, spec = load_generator(settings)
    view, view_tokenizer, plot_spec = load_plot_generator(settings, model, tokenizer, spec)
    assert view_tokenizer is tokenizer and plot_spec.adapter == str(plot)
    assert {p.data_ptr() for p in view.parameters()} & {p.data_ptr() for p in model.parameters()}
    full = load_plot_generator(_settings(generator=str(qa), plot_generator=str(tiny_gpt2_dir)), model, tokenizer,
                               spec)  # a full model of its own: loaded separately
    assert not {p.data_ptr() for p in full[0].parameters()} & {p.data_ptr() for p in model.parameters()}
