import pytest

from atocore_tui.config import env_name, load_settings, setting_names
from atocore_tui.errors import ConfigError


def test_defaults_without_file_or_env():
    settings = load_settings(env={})
    assert settings.ingest.chunk_max_chars == 1200
    assert settings.index.dtype == "f16"
    assert settings.data_dir.name == "atocore-tui"
    # no vault configured anywhere: the bundled sample vault is the default
    assert settings.sources.vault is not None and settings.sources.vault.name == "sample_vault"


def test_layers_file_then_env_then_overrides(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("data_dir: ./data\ningest:\n  chunk_max_chars: 900\n  chunk_min_chars: 100\n"
                      "retrieval:\n  top_k: 7\n", encoding="utf-8")
    settings = load_settings(config_path=config, env={"ATOCORE_RETRIEVAL_TOP_K": "5"})
    assert settings.data_dir == tmp_path / "data"  # relative to the config file
    assert settings.ingest.chunk_max_chars == 900
    assert settings.retrieval.top_k == 5  # env beats file
    settings = load_settings(config_path=config, env={"ATOCORE_RETRIEVAL_TOP_K": "5"},
                             overrides={"retrieval.top_k": 3, "data_dir": tmp_path / "flag"})
    assert settings.retrieval.top_k == 3  # flags beat env
    assert settings.data_dir == tmp_path / "flag"
    assert settings.config_path == config


def test_env_aliases_and_config_from_env(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("context:\n  budget: 1234\n", encoding="utf-8")
    settings = load_settings(env={"ATOCORE_CONFIG": str(config), "ATOCORE_VAULT": str(tmp_path),
                                  "ATOCORE_DATA_DIR": str(tmp_path / "d")})
    assert settings.context.budget == 1234
    assert settings.sources.vault == tmp_path
    assert settings.data_dir == tmp_path / "d"


@pytest.mark.parametrize("text, line, words", [
    ("ingest:\n  chunk_max_chars: [1, 2\n", 3, "invalid YAML"),
    ("ingest:\n  chunk_max_chars: lots\n", 2, "whole number"),
    ("retrieval:\n  top_k: 5\n  colour: red\n", 3, "unknown setting 'retrieval.colour'"),
    ("nonsense:\n  a: 1\n", 1, "unknown setting section"),
    ("ingest: 5\n", 1, "is a section"),
    ("- a\n- b\n", 1, "mapping"),
])
def test_invalid_config_names_file_and_line(tmp_path, text, line, words):
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config_path=config, env={})
    assert info.value.path == str(config)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"{config}:{line}: ")


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(config_path=tmp_path / "absent.yaml", env={})


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="ATOCORE_INGEST_MAX_FILE_BYTES"):
        load_settings(env={"ATOCORE_INGEST_MAX_FILE_BYTES": "big"})


def test_semantic_validation(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("index:\n  dtype: f64\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="index.dtype"):
        load_settings(config_path=config, env={})
    with pytest.raises(ConfigError, match="chunk_min_chars"):
        load_settings(env={}, overrides={"ingest.chunk_min_chars": 5000})


def test_every_setting_has_an_env_name():
    names = setting_names()
    assert "ingest.max_file_bytes" in names and "data_dir" in names
    assert env_name("ingest.max_file_bytes") == "ATOCORE_INGEST_MAX_FILE_BYTES"
    assert env_name("data_dir") == "ATOCORE_DATA_DIR"
