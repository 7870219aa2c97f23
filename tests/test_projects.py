import json
import shutil

import pytest
import yaml

from atocore_tui.cli import main
from atocore_tui.engine import Engine
from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.projects.registry import REGISTRY_FILENAME, is_slug, parse_root
from atocore_tui.store import Alert, Chunk, Document, Project, ProjectAlias

from .conftest import make_settings, write

REFRESH_KEYS = {"project", "aliases", "description", "purge_deleted", "status",
                "roots_ingested", "roots_skipped", "roots"}


def snapshot(engine):
    """Everything a failed registry call must leave alone."""
    registry_file = engine.data_dir / REGISTRY_FILENAME
    return {
        "projects": [(p.id, p.description, p.ingest_roots, p.updated_at)
                     for p in Project.select().order_by(Project.id)],
        "aliases": sorted((a.alias, a.project_id) for a in ProjectAlias.select()),
        "alerts": Alert.select().count(),
        "documents": Document.select().count(),
        "file": registry_file.read_text() if registry_file.exists() else None,
    }


@pytest.fixture
def seeded(engine):
    """The engine with the sample vault's bundled registry imported (no ingestion)."""
    assert engine.projects.import_bundled_if_empty()["created"] == ["coldplate", "orion-drive"]
    return engine


# --------------------------------------------------------------- reference
def test_template_names_the_registry_file_and_sources(engine):
    result = engine.projects.template()
    assert set(result) == {"template", "registry_path", "allowed_sources"}
    assert result["allowed_sources"] == ["vault"]
    assert result["registry_path"] == str(engine.data_dir / "projects.yaml")
    assert set(result["template"]) == {"project_id", "aliases", "description", "ingest_roots"}


def test_slug_rule_and_root_parsing():
    assert all(is_slug(s) for s in ("ab", "orion-drive", "cp-200", "x" * 63))
    assert not any(is_slug(s) for s in ("a", "x" * 64, "-ab", "ab-", "Ab", "a b", "a_b", "", None))
    assert parse_root("vault:projects/x") == {"source": "vault", "subpath": "projects/x"}
    with pytest.raises(ValidationError, match="source:subpath"):
        parse_root("projects/x")


# ---------------------------------------------------------------- proposal
def test_proposal_normalises_without_writing(seeded):
    write(seeded.projects.sources()["vault"] / "work" / "gearbox" / "n.md", "# n\n")
    before = snapshot(seeded)
    result = seeded.projects.proposal(
        "  Gear-Box ", [" GB ", "gb", "gear-box", ""], "  A gearbox study.  ",
        ["vault:./work//gearbox/"])
    assert result == {"valid": True, "problems": [], "normalised": {
        "project_id": "gear-box", "aliases": ["gb"], "description": "A gearbox study.",
        "ingest_roots": [{"source": "vault", "subpath": "work/gearbox"}]}}
    windows = seeded.projects.proposal("gear-box", ingest_roots=[{"source": "Vault", "subpath": "work\\gearbox\\"}])
    assert windows["normalised"]["ingest_roots"] == [{"source": "vault", "subpath": "work/gearbox"}]
    assert snapshot(seeded) == before


BAD_REGISTRATIONS = [
    # (project_id, aliases, roots, expected message)
    ("Bad Slug", [], [], "invalid project id 'bad slug'"),
    ("a", [], [], "invalid project id 'a'"),
    ("x" * 64, [], [], "invalid project id"),
    ("-abc", [], [], "invalid project id"),
    ("   ", [], [], "project id must not be blank"),
    ("gearbox", ["Bad Alias"], [], "invalid alias 'bad alias'"),
    ("gearbox", ["orion"], [], "alias 'orion' is already an alias of project 'orion-drive'"),
    ("gearbox", ["CP"], [], "alias 'cp' is already an alias of project 'coldplate'"),
    ("gearbox", ["coldplate"], [], "alias 'coldplate' is the id of project 'coldplate'"),
    ("odu", [], [], "project id 'odu' is already an alias of project 'orion-drive'"),
    ("coldplate", [], [], "project 'coldplate' is already registered: use update"),
    ("gearbox", 5, [], "aliases must be a list"),
    ("gearbox", [], ["drive:gearbox"], "unknown source 'drive'"),
    ("gearbox", [], ["vault:projects/nope"], "ingest root vault:projects/nope does not exist"),
    ("gearbox", [], ["vault:/etc"], "must be relative to the vault source"),
    ("gearbox", [], ["vault:C:\\work"], "must be relative"),
    ("gearbox", [], ["vault:../outside"], "must not contain '..'"),
    ("gearbox", [], ["vault:projects/../personal"], "must not contain '..'"),
    ("gearbox", [], ["vault:.obsidian"], "inside a hidden folder"),
    ("gearbox", [], ["vault:personal/about-me.md"], "is not a folder"),
    ("gearbox", [], ["personal"], "must be written source:subpath"),
    ("gearbox", [], [42], "must be {source, subpath}"),
    ("gearbox", [], ["vault:personal", "vault:personal/"], "ingest roots vault:personal and vault:personal overlap"),
    ("gearbox", [], ["vault:knowledge", "vault:."], "overlap"),
    ("gearbox", [], ["vault:projects"], "overlaps vault:projects/coldplate of project 'coldplate'"),
    ("gearbox", [], ["vault:projects/coldplate/sub"], "overlaps vault:projects/coldplate of project 'coldplate'"),
]


@pytest.mark.parametrize("project_id, aliases, roots, message", BAD_REGISTRATIONS)
def test_bad_registration_is_refused_and_nothing_is_written(seeded, project_id, aliases, roots, message):
    (seeded.projects.sources()["vault"] / "projects" / "coldplate" / "sub").mkdir()
    before = snapshot(seeded)
    proposal = seeded.projects.proposal(project_id, aliases, "", roots)
    assert proposal["valid"] is False
    assert any(message in p["message"] for p in proposal["problems"]), proposal["problems"]
    with pytest.raises(ValidationError, match="cannot register") as error:
        seeded.projects.register(project_id, aliases, "", roots)
    assert message in str(error.value)
    assert snapshot(seeded) == before


def test_every_problem_is_listed_at_once(seeded):
    result = seeded.projects.proposal("Bad Id", ["orion"], "", ["drive:x", "vault:../y"])
    fields = [p["field"] for p in result["problems"]]
    assert fields.count("project_id") == 1 and fields.count("aliases") == 1 and fields.count("ingest_roots") == 2


def test_root_that_links_outside_the_source_is_refused(seeded, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (seeded.projects.sources()["vault"] / "linked").symlink_to(outside, target_is_directory=True)
    before = snapshot(seeded)
    with pytest.raises(ValidationError, match="leads outside the vault source"):
        seeded.projects.register("linked", ingest_roots=["vault:linked"])
    assert snapshot(seeded) == before


def test_alias_may_not_take_the_name_of_a_project_that_documents_use(seeded):
    vault = seeded.projects.sources()["vault"]
    write(vault / "legacy" / "old.md", "---\nproject: legacy-rig\n---\n# Old rig\n\nnotes\n")
    seeded.ingest(vault / "legacy")
    before = snapshot(seeded)
    with pytest.raises(ValidationError, match="alias 'legacy-rig' is the name of a project that documents use"):
        seeded.projects.register("new-rig", ["legacy-rig"])
    assert snapshot(seeded) == before
    # registering the documented project itself is the intended path
    assert seeded.projects.register("legacy-rig", ["rig"])["documents"] == 1


# ---------------------------------------------------- register/get/resolve
def test_register_persists_lists_and_resolves_by_alias(seeded):
    project = seeded.projects.register("personal-notes", ["me", "Mine"], "About me", ["vault:personal"])
    assert project["id"] == "personal-notes" and project["registered"] is True
    assert project["aliases"] == ["me", "mine"]
    assert project["ingest_roots"][0]["exists"] is True
    assert project["ingest_roots"][0]["path"].endswith("personal")
    assert project["created_at"] and project["last_refreshed_at"] is None
    assert ProjectAlias.select().where(ProjectAlias.project == "personal-notes").count() == 2
    for name in ("personal-notes", "ME", " mine ", "Personal-Notes"):
        assert seeded.projects.resolve(name) == "personal-notes"
        assert seeded.resolve_project(name) == "personal-notes"
    assert seeded.projects.get("mine")["description"] == "About me"
    assert seeded.project_names("personal-notes") == ["personal-notes", "me", "mine"]
    assert [p["id"] for p in seeded.projects.list()["projects"]] == ["coldplate", "orion-drive", "personal-notes"]
    mirror = yaml.safe_load((seeded.data_dir / "projects.yaml").read_text())
    assert [p["id"] for p in mirror["projects"]] == ["coldplate", "orion-drive", "personal-notes"]


def test_resolve_unknown_and_blank(seeded):
    with pytest.raises(NotFound, match="unknown project: nope"):
        seeded.projects.resolve("nope")
    with pytest.raises(ValidationError, match="must not be blank"):
        seeded.projects.resolve("  ")
    assert seeded.resolve_project("") is None and seeded.resolve_project(None) is None
    with pytest.raises(NotFound):
        seeded.projects.get("nope")


def test_list_counts_documents_and_shows_unregistered_projects(engine):
    vault = engine.projects.sources()["vault"]
    write(vault / "misc" / "bench.md", "---\nproject: test-bench\n---\n# Bench\n\nthe test bench\n")
    engine.ingest()  # first run: imports the bundled registry, then ingests
    listing = engine.projects.list()
    assert listing["registry_path"] == str(engine.data_dir / "projects.yaml")
    by_id = {p["id"]: p for p in listing["projects"]}
    assert list(by_id) == ["coldplate", "orion-drive", "test-bench"]
    assert by_id["test-bench"]["registered"] is False and by_id["test-bench"]["ingest_roots"] == []
    for pid in ("coldplate", "orion-drive"):
        documents = Document.select().where(Document.project == pid)
        chunks = Chunk.select().join(Document).where(Document.project == pid)
        assert by_id[pid]["documents"] == documents.count() > 5
        assert by_id[pid]["chunks"] == chunks.count() > by_id[pid]["documents"]
    assert engine.known_projects() == {"coldplate", "orion-drive", "test-bench"}
    assert engine.resolve_project("Test-Bench") == "test-bench"
    assert engine.projects.get("test-bench")["documents"] == 1


# ------------------------------------------------------------------ update
def test_update_by_alias_changes_only_what_is_given(seeded):
    vault = seeded.projects.sources()["vault"]
    (vault / "projects" / "coldplate-archive").mkdir()
    updated = seeded.projects.update("CP", aliases=["cp", "plate"], description="New text")
    assert updated["aliases"] == ["cp", "plate"] and updated["description"] == "New text"
    assert updated["ingest_roots"][0]["subpath"] == "projects/coldplate"
    assert seeded.resolve_project("plate") == "coldplate"
    with pytest.raises(NotFound):
        seeded.resolve_project("cold-plate")
    roots = seeded.projects.update("plate", ingest_roots=["vault:projects/coldplate",
                                                          "vault:projects/coldplate-archive"])
    assert [r["subpath"] for r in roots["ingest_roots"]] == ["projects/coldplate", "projects/coldplate-archive"]
    assert seeded.projects.update("coldplate", aliases=[])["aliases"] == []
    assert "coldplate-archive" in (seeded.data_dir / "projects.yaml").read_text()


def test_update_may_hand_an_alias_over_once_released(seeded):
    seeded.projects.update("coldplate", aliases=["cold-plate"])
    assert seeded.projects.update("orion-drive", aliases=["cp", "odu"])["aliases"] == ["cp", "odu"]
    assert seeded.resolve_project("cp") == "orion-drive"


@pytest.mark.parametrize("changes, message", [
    ({"aliases": ["odu"]}, "alias 'odu' is already an alias of project 'orion-drive'"),
    ({"aliases": ["orion-drive"]}, "alias 'orion-drive' is the id of project 'orion-drive'"),
    ({"aliases": ["No Good"]}, "invalid alias"),
    ({"ingest_roots": ["vault:projects/orion-drive"]}, "overlaps vault:projects/orion-drive"),
    ({"ingest_roots": ["vault:projects/missing"]}, "does not exist"),
    ({"ingest_roots": ["vault:../x"]}, "must not contain '..'"),
    ({"ingest_roots": ["drive:x"]}, "unknown source 'drive'"),
    ({"description": 7}, "description must be text"),
])
def test_bad_update_is_refused_and_nothing_is_written(seeded, changes, message):
    before = snapshot(seeded)
    with pytest.raises(ValidationError, match="cannot update project 'coldplate'") as error:
        seeded.projects.update("cp", **changes)
    assert message in str(error.value)
    assert snapshot(seeded) == before


def test_update_unknown_or_unregistered_project_is_not_found(seeded):
    write(seeded.projects.sources()["vault"] / "misc" / "b.md", "---\nproject: bench\n---\n# B\n\ntext\n")
    seeded.ingest(seeded.projects.sources()["vault"] / "misc")
    before = snapshot(seeded)
    with pytest.raises(NotFound, match="unknown project"):
        seeded.projects.update("nope", description="x")
    with pytest.raises(NotFound, match="not registered"):
        seeded.projects.update("bench", description="x")
    assert snapshot(seeded) == before


def test_description_edit_works_while_a_root_folder_is_away(seeded):
    shutil.rmtree(seeded.projects.sources()["vault"] / "projects" / "coldplate")
    assert seeded.projects.get("cp")["ingest_roots"][0]["exists"] is False
    assert seeded.projects.update("cp", description="Drive unplugged")["description"] == "Drive unplugged"


# ----------------------------------------------------------------- refresh
def test_refresh_returns_the_spec_shape_and_stamps_the_project(seeded):
    result = seeded.projects.refresh("ODU")
    assert set(result) == REFRESH_KEYS
    assert result["project"] == "orion-drive" and result["aliases"] == ["odu", "odu-100", "orion"]
    assert result["status"] == "ingested" and result["purge_deleted"] is False
    assert (result["roots_ingested"], result["roots_skipped"]) == (1, 0)
    root = result["roots"][0]
    assert root["source"] == "vault" and root["subpath"] == "projects/orion-drive" and root["reason"] == ""
    assert root["summary"]["ingested"] >= 10
    assert {d.project for d in Document.select()} == {"orion-drive"}
    assert seeded.projects.get("orion-drive")["last_refreshed_at"] is not None
    again = seeded.projects.refresh("orion-drive")
    assert again["roots"][0]["summary"]["ingested"] == 0


def test_refresh_skips_a_missing_root_with_an_alert_and_purges_on_request(seeded):
    vault = seeded.projects.sources()["vault"]
    (vault / "projects" / "coldplate-archive").mkdir()
    write(vault / "projects" / "coldplate-archive" / "old.md", "# Old\n\nold coldplate notes\n")
    seeded.projects.update("cp", ingest_roots=["vault:projects/coldplate", "vault:projects/coldplate-archive"])
    first = seeded.projects.refresh("cp")
    assert first["roots_ingested"] == 2
    assert Document.get(Document.path == "projects/coldplate-archive/old.md").project == "coldplate"
    shutil.rmtree(vault / "projects" / "coldplate-archive")
    (vault / "projects" / "coldplate" / "risks-coldplate.md").unlink()
    result = seeded.projects.refresh("cp", purge_deleted=True)
    assert (result["status"], result["roots_ingested"], result["roots_skipped"]) == ("partial", 1, 1)
    assert result["purge_deleted"] is True
    skipped = result["roots"][1]
    assert skipped["status"] == "skipped" and "does not exist" in skipped["reason"] and skipped["summary"] is None
    assert result["roots"][0]["summary"]["removed"] == ["projects/coldplate/risks-coldplate.md"]
    alert = Alert.get()
    assert "coldplate-archive" in alert.title and alert.source == "projects"
    seeded.projects.refresh("cp")  # the same open alert is not raised twice
    assert Alert.select().count() == 1


def test_refresh_with_every_root_missing_or_no_roots(seeded):
    shutil.rmtree(seeded.projects.sources()["vault"] / "projects" / "orion-drive")
    result = seeded.projects.refresh("orion")
    assert (result["status"], result["roots_ingested"], result["roots_skipped"]) == ("nothing_ingested", 0, 1)
    assert seeded.projects.get("orion")["last_refreshed_at"] is None
    seeded.projects.register("empty-one")
    assert seeded.projects.refresh("empty-one")["roots"] == []
    with pytest.raises(NotFound):
        seeded.projects.refresh("nope")


# --------------------------------------------------------------- ingestion
def test_ingest_gives_notes_under_a_root_its_project(seeded):
    vault = seeded.projects.sources()["vault"]
    seeded.projects.register("personal", ["me"], "About me", ["vault:personal"])
    write(vault / "personal" / "front.md", "---\nproject: coldplate\n---\n# Mine\n\nfront matter wins\n")
    seeded.ingest()
    projects = {d.path: d.project for d in Document.select()}
    assert projects["personal/about-me.md"] == "personal"
    assert projects["personal/front.md"] == "coldplate"
    assert projects["knowledge/fatigue-basics.md"] == ""
    # a root removed from the registry releases its notes on the next run
    seeded.projects.update("personal", ingest_roots=[])
    seeded.ingest()
    assert Document.get(Document.path == "personal/about-me.md").project == ""


def test_first_ingest_imports_the_bundled_registry_once(engine):
    assert Project.select().count() == 0
    engine.ingest()
    assert [p.id for p in Project.select().order_by(Project.id)] == ["coldplate", "orion-drive"]
    assert engine.resolve_project("odu") == "orion-drive"
    engine.projects.update("cp", description="mine now")
    assert engine.projects.import_bundled_if_empty() is None
    assert engine.projects.get("cp")["description"] == "mine now"


def test_a_broken_bundled_registry_becomes_an_alert_not_a_failure(engine):
    bundled = engine.projects.sources()["vault"] / ".atocore" / "projects.yaml"
    bundled.write_text("version: 1\nprojects:\n- id: Bad Id\n")
    summary = engine.ingest().summary()
    assert summary["ingested"] > 20 and Project.select().count() == 0
    assert "Bundled project registry" in Alert.get().title
    assert not any(".atocore" in d.path for d in Document.select())


# -------------------------------------------------------------------- YAML
def test_yaml_round_trip_is_exact(tmp_path, vault, engine):
    engine.projects.import_bundled_if_empty()
    engine.projects.register("personal", ["me"], "Notes: about me — ünïcode, 'quotes' and a very long line "
                             "that the YAML writer will fold somewhere along the way", ["vault:personal"])
    first = engine.projects.export_yaml(tmp_path / "export.yaml")
    assert (tmp_path / "export.yaml").read_text() == first
    engine.close()
    fresh = Engine(make_settings(tmp_path / "other-data", vault))
    try:
        assert fresh.projects.list()["projects"] == []
        result = fresh.projects.import_yaml(tmp_path / "export.yaml")
        assert result["created"] == ["coldplate", "orion-drive", "personal"]
        assert fresh.projects.export_yaml() == first
        assert (fresh.data_dir / "projects.yaml").read_text() == first
        again = fresh.projects.import_yaml(first)
        assert again["unchanged"] == ["coldplate", "orion-drive", "personal"] and again["updated"] == []
    finally:
        fresh.close()


def test_import_updates_creates_and_swaps_aliases_in_one_go(seeded):
    text = """
version: 1
projects:
- id: coldplate
  aliases: [odu]
  description: swapped
  ingest_roots: [{source: vault, subpath: projects/coldplate}]
- id: orion-drive
  aliases: [cp]
  ingest_roots: [{source: vault, subpath: projects/orion-drive}]
- id: knowledge
  ingest_roots: ["vault:knowledge"]
"""
    result = seeded.projects.import_yaml(text)
    assert result["updated"] == ["coldplate", "orion-drive"] and result["created"] == ["knowledge"]
    assert seeded.resolve_project("odu") == "coldplate" and seeded.resolve_project("cp") == "orion-drive"
    with pytest.raises(NotFound):
        seeded.resolve_project("orion")


@pytest.mark.parametrize("text, message", [
    ("projects:\n- id: a: b\n", "registry YAML:2: invalid YAML: mapping values are not allowed"),
    ("- just a list\n", "a registry is a mapping with a 'projects' list"),
    ("version: 9\nprojects: []\n", "unsupported registry version 9"),
    ("projects: []\nextra: 1\n", "unknown keys extra"),
    ("projects:\n- id: abc\n  colour: red\n", "project #1 has unknown keys colour"),
    ("projects:\n- id: abc\n- id: abc\n", "project 'abc' appears twice in the file"),
    ("projects:\n- id: one\n  aliases: [shared]\n- id: two\n  aliases: [shared]\n",
     "one: alias 'shared' is already an alias of project 'two'"),
    ("projects:\n- id: fine\n- id: Not Fine\n", "project #2: invalid project id 'not fine'"),
    ("projects:\n- id: fine\n  aliases: [odu]\n", "fine: alias 'odu' is already an alias of project 'orion-drive'"),
    ("projects:\n- id: fine\n  ingest_roots: ['vault:projects/none']\n", "does not exist"),
    ("projects:\n- id: fine\n  ingest_roots: ['vault:projects']\n", "overlaps vault:projects/coldplate"),
])
def test_bad_import_is_refused_whole_and_writes_nothing(seeded, text, message):
    before = snapshot(seeded)
    with pytest.raises(ValidationError) as error:
        seeded.projects.import_yaml(text)
    assert message in str(error.value)
    assert snapshot(seeded) == before


def test_import_from_a_missing_or_non_utf8_file(seeded, tmp_path):
    with pytest.raises(NotFound, match="registry file not found"):
        seeded.projects.import_yaml(str(tmp_path / "none.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"projects: [\xff]\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        seeded.projects.import_yaml(bad)


# --------------------------------------------------------------------- CLI
@pytest.fixture
def cli(tmp_path, vault):
    base = ["--data-dir", str(tmp_path / "data"), "--vault", str(vault)]

    def run(*args):
        return main([*base, *args])

    return run


def test_cli_projects_commands(cli, capsys, tmp_path):
    assert cli("ingest", "--json") == 0
    capsys.readouterr()
    assert cli("projects", "list", "--json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert [p["id"] for p in listing["projects"]] == ["coldplate", "orion-drive"]
    assert cli("projects") == 0 and "orion-drive" in capsys.readouterr().out
    assert cli("projects", "show", "odu", "--json") == 0
    assert json.loads(capsys.readouterr().out)["id"] == "orion-drive"
    assert cli("projects", "show", "odu") == 0 and "odu-100" in capsys.readouterr().out
    assert cli("projects", "template", "--json") == 0
    assert json.loads(capsys.readouterr().out)["allowed_sources"] == ["vault"]
    assert cli("projects", "template") == 0 and "my-project" in capsys.readouterr().out

    args = ("--id", "personal", "--alias", "me", "--description", "About me", "--root", "vault:personal")
    assert cli("projects", "propose", *args, "--json") == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert cli("projects", "propose", "--id", "Bad Id", "--alias", "odu") == 2
    out = capsys.readouterr().out
    assert "invalid project id" in out and "already an alias" in out
    assert cli("projects", "register", *args, "--json") == 0
    assert json.loads(capsys.readouterr().out)["aliases"] == ["me"]
    assert cli("projects", "register", *args) == 2
    assert "already registered" in capsys.readouterr().err

    assert cli("projects", "update", "me", "--alias", "mine", "--description", "Mine", "--json") == 0
    assert json.loads(capsys.readouterr().out)["aliases"] == ["mine"]
    assert cli("projects", "update", "mine", "--clear-aliases") == 0
    assert "updated personal" in capsys.readouterr().out
    assert cli("projects", "update", "nope", "--description", "x") == 3
    assert cli("projects", "update", "personal", "--root", "nocolon") == 2
    assert "source:subpath" in capsys.readouterr().err

    assert cli("projects", "refresh", "personal", "--purge-deleted", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == REFRESH_KEYS and result["purge_deleted"] is True
    assert cli("projects", "refresh", "cp") == 0 and "1 roots ingested" in capsys.readouterr().out

    target = tmp_path / "registry.yaml"
    assert cli("projects", "export", str(target)) == 0
    assert str(target) in capsys.readouterr().out
    assert cli("projects", "export", "-") == 0
    assert capsys.readouterr().out == target.read_text()
    assert cli("projects", "export", "--json") == 0
    assert json.loads(capsys.readouterr().out)["yaml"] == target.read_text()
    assert cli("projects", "import", str(target), "--json") == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == ["coldplate", "orion-drive", "personal"]
    assert cli("projects", "import", str(target)) == 0 and "3 unchanged" in capsys.readouterr().out
    assert cli("projects", "import", str(tmp_path / "none.yaml")) == 3


def test_a_document_naming_a_project_by_alias_is_not_listed_as_another_project(seeded):
    vault = seeded.projects.sources()["vault"]
    write(vault / "misc" / "alias.md", "---\nproject: ODU\n---\n# By alias\n\ntext\n")
    seeded.ingest(vault / "misc")
    assert [p["id"] for p in seeded.projects.list()["projects"]] == ["coldplate", "orion-drive"]
    assert seeded.known_projects() == {"coldplate", "orion-drive"}
    assert seeded.resolve_project("odu") == "orion-drive"


# ------------------------------------------------------------------ labels
def test_a_new_label_is_kept_only_when_asked_and_must_be_a_valid_id(seeded):
    with pytest.raises(NotFound, match="unknown project"):
        seeded.memories.create("project", "HeNe laser", "p05-interferometer")
    record = seeded.memories.create("project", "HeNe laser", "P05-Interferometer", new_label=True)
    assert record.project == "p05-interferometer"
    with pytest.raises(ValidationError, match="invalid project id"):
        seeded.state.set("not a slug", "decision", "laser", "HeNe", new_label=True)
    assert seeded.state.set("p05-interferometer", "decision", "laser", "HeNe")["status"] == "created"
    assert seeded.interactions.record("laser?", project="lab-7", new_label=True)["status"] == "recorded"


def test_labels_resolve_are_listed_and_become_projects_or_aliases(seeded):
    seeded.memories.create("project", "HeNe laser", "p05", new_label=True)
    seeded.state.set("p05", "decision", "laser", "HeNe", new_label=True)
    seeded.interactions.record("cold plate?", project="plate-x", new_label=True)
    assert seeded.resolve_project("P05") == "p05"
    assert seeded.projects.labels() == ["p05", "plate-x"]
    assert {"p05", "plate-x"} <= {p["id"] for p in seeded.projects.list()["projects"] if not p["registered"]}

    seeded.projects.register("p05", description="Interferometer")
    assert seeded.projects.labels() == ["plate-x"]
    assert seeded.state.get("p05")["entries"][0]["value"] == "HeNe"

    adopted = seeded.projects.adopt_label("plate-x", "coldplate")
    assert "plate-x" in adopted["aliases"] and seeded.projects.labels() == []
    assert seeded.interactions.entries(project="coldplate")["interactions"][0]["prompt"] == "cold plate?"
    assert seeded.resolve_project("plate-x") == "coldplate"


def test_adopting_a_label_refuses_bad_input_and_writes_nothing(seeded):
    seeded.memories.create("project", "x", "lab-7", new_label=True)
    before = snapshot(seeded)
    with pytest.raises(NotFound, match="not a project label"):
        seeded.projects.adopt_label("coldplate", "orion-drive")
    with pytest.raises(NotFound):
        seeded.projects.adopt_label("lab-7", "no-such-project")
    assert snapshot(seeded) == before and seeded.projects.labels() == ["lab-7"]


def test_resolved_names_follow_every_write_also_another_processes(engine):
    """Engine.resolve_project remembers answers until anyone commits."""
    import sqlite3

    from atocore_tui.store import DB_FILENAME

    with pytest.raises(NotFound):
        engine.resolve_project("rv")
    engine.projects.register("rover", aliases=["rv"])
    assert engine.resolve_project("rv") == "rover" and engine.project_names("rover") == ["rover", "rv"]
    assert engine.resolve_project("RV") == "rover"  # remembered: no query (the same answer)
    # another process (here: a plain connection) moves the alias
    other = sqlite3.connect(str(engine.data_dir / DB_FILENAME))
    with other:
        other.execute("INSERT INTO project (id, description, ingest_roots, created_at, updated_at) "
                      "VALUES ('lander', '', '[]', '2026-01-01', '2026-01-01')")
        other.execute("UPDATE project_alias SET project_id = 'lander' WHERE alias = 'rv'")
    other.close()
    assert engine.resolve_project("rv") == "lander"
    assert engine.project_names("rover") == ["rover"] and engine.project_names("lander") == ["lander", "rv"]
