"""Write the valid airflow.cfg keys of the Airflow installed in THIS interpreter (run it with a venv's python).

Used by hack/airflow/gen-config-keys.sh. Writes into --out-dir:
  keys-<minor>.txt        one section.key per line (core config.yml + config of the installed providers),
                          deprecated aliases excluded
  deprecated-<minor>.tsv  old.key<TAB>new.key for aliases Airflow still accepts with a warning
                          (conf.deprecated_options and conf.deprecated_sections)
  sensitive-<minor>.txt   section.key of the options that also accept _cmd / _secret (conf.sensitive_config_values)
  removed-3.tsv           (--removed) renames/removals from `airflow config lint` (CONFIGS_CHANGES)
It also runs `airflow config list --defaults` and reports (stderr) how its keys differ from the list.
Must run with AIRFLOW_HOME set to an empty temp dir and no AIRFLOW__* variables in the environment.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import re
import subprocess
import sys
import warnings


def log(msg: str) -> None:
    print(f"config_keys.py: {msg}", file=sys.stderr)


def airflow_dists() -> list[tuple[str, str]]:
    out = {}
    for d in md.distributions():
        name = (d.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith("apache-airflow-providers-"):
            out[name] = d.version
    return sorted(out.items())


def options(desc: dict) -> set[tuple[str, str]]:
    return {(s.lower(), k.lower()) for s, sd in desc.items() for k in (sd or {}).get("options", {}) or {}}


def header(kind: str, minor: str, airflow_version: str, cmd: str) -> list[str]:
    lines = [
        f"# {kind} -- Apache Airflow {minor}",
        f"# generated from installed packages: apache-airflow=={airflow_version} (python {platform.python_version()})",
    ]
    for name, ver in airflow_dists():
        lines.append(f"#   provider: {name}=={ver}")
    lines.append(f"# command: {cmd}")
    return lines


def write(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    log(f"wrote {path}")


def config_list_defaults_keys() -> set[tuple[str, str]]:
    """Keys shown by `airflow config list --defaults` (commented `# key =` lines count too)."""
    airflow_bin = os.path.join(os.path.dirname(sys.executable), "airflow")
    res = subprocess.run(
        [airflow_bin, "config", "list", "--defaults"], capture_output=True, text=True, check=True
    )
    keys, section = set(), None
    for line in res.stdout.splitlines():
        m = re.match(r"^\[([A-Za-z0-9_.\-]+)\]\s*$", line)
        if m:
            section = m.group(1).lower()
            continue
        m = re.match(r"^#?\s?([a-z][a-z0-9_\-]*) = ", line)
        if m and section:
            keys.add((section, m.group(1)))
    return keys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--minor", required=True, help="e.g. 3.3 (file name suffix)")
    ap.add_argument("--removed", action="store_true", help="also write removed-3.tsv (Airflow 3 only)")
    ap.add_argument("--cmd", default="hack/airflow/gen-config-keys.sh")
    ap.add_argument("--strict", action="store_true", help="fail when `config list --defaults` disagrees")
    args = ap.parse_args()

    if os.environ.get("AIRFLOW__CORE__UNIT_TEST_MODE"):
        log("AIRFLOW__CORE__UNIT_TEST_MODE must not be set")
        return 2
    leaked = sorted(k for k in os.environ if k.startswith("AIRFLOW__"))
    if leaked:
        log(f"AIRFLOW__* variables must not be set: {leaked}")
        return 2

    warnings.simplefilter("ignore")
    import airflow
    from airflow.configuration import conf, retrieve_configuration_description
    from airflow.providers_manager import ProvidersManager

    version = airflow.__version__
    pm = ProvidersManager()
    if hasattr(pm, "initialize_providers_configuration"):
        pm.initialize_providers_configuration()
    if hasattr(conf, "load_providers_configuration"):
        conf.load_providers_configuration()

    # Core config.yml + the config contributed by each installed provider (provider_info "config").
    core = retrieve_configuration_description(include_airflow=True, include_providers=False)
    full = retrieve_configuration_description(include_airflow=True, include_providers=True)
    core_keys, all_keys = options(core), options(full)
    provider_sections = sorted({s for s, _ in all_keys - core_keys})

    # What the live parser knows (3.2+ also merges provider_config_fallback_defaults.cfg, which carries
    # defaults for providers that are NOT installed: those are reported, not listed).
    live_keys = options(conf.configuration_description)
    fallback_only = sorted(live_keys - all_keys)
    missing_live = sorted(all_keys - live_keys)
    if missing_live:
        log(f"WARNING: in config.yml/provider config but not in conf.configuration_description: {missing_live}")

    # Deprecated aliases.
    deprecated: dict[tuple[str, str], tuple[str, str]] = {}
    for (new_s, new_k), (old_s, old_k, _ver) in conf.deprecated_options.items():
        deprecated[(old_s.lower(), old_k.lower())] = (new_s.lower(), new_k.lower())
    for new_s, (old_s, _ver) in conf.deprecated_sections.items():
        for s, k in sorted(all_keys):
            if s == new_s.lower():
                deprecated.setdefault((old_s.lower(), k), (s, k))
    # An alias whose target is itself renamed points at the final name.
    for old, new in list(deprecated.items()):
        seen = {old}
        while new in deprecated and new not in seen:
            seen.add(new)
            new = deprecated[new]
        deprecated[old] = new
    dangling = sorted(f"{o[0]}.{o[1]} -> {n[0]}.{n[1]}" for o, n in deprecated.items() if n not in all_keys)
    if dangling:
        log(f"note: deprecated aliases whose new key is not a listed key (kept): {dangling}")

    keys = sorted(all_keys - set(deprecated))
    alias_in_desc = sorted(set(deprecated) & all_keys)
    minor = args.minor

    lines = header("valid airflow.cfg keys (section.key; env AIRFLOW__SECTION__KEY)", minor, version, args.cmd)
    lines += [
        "# source: airflow.configuration.retrieve_configuration_description(include_providers=True), i.e. core",
        "#   config_templates/config.yml + the 'config' of every installed provider; cross-checked with",
        "#   conf.configuration_description and `airflow config list --defaults`.",
        f"# provider sections: {' '.join(provider_sections) or '(none)'}",
        f"# deprecated aliases are NOT listed: see deprecated-{minor}.tsv; keys accepting _cmd/_secret: sensitive-{minor}.txt",
    ]
    if fallback_only:
        prov = set(provider_sections)
        fb_sections = sorted({s for s, _ in fallback_only if s not in prov})
        fb_keys = sorted(f"{s}.{k}" for s, k in fallback_only if s in prov)
        lines.append(
            "# not listed: provider_config_fallback_defaults.cfg keys no installed provider declares: sections "
            + " ".join(fb_sections)
            + ("; keys " + " ".join(fb_keys) if fb_keys else "")
        )
    if alias_in_desc:
        lines.append("# also described in config.yml but deprecated aliases: " + " ".join(f"{s}.{k}" for s, k in alias_in_desc))
    lines += [f"{s}.{k}" for s, k in keys]
    write(os.path.join(args.out_dir, f"keys-{minor}.txt"), lines)

    lines = header("deprecated aliases Airflow still accepts (with a warning): old.key<TAB>new.key", minor, version, args.cmd)
    lines.append("# source: conf.deprecated_options + conf.deprecated_sections (every key of a renamed section)")
    lines += [f"{o[0]}.{o[1]}\t{n[0]}.{n[1]}" for o, n in sorted(deprecated.items())]
    write(os.path.join(args.out_dir, f"deprecated-{minor}.tsv"), lines)

    sens = sorted({(s.lower(), k.lower()) for s, k in conf.sensitive_config_values})
    lines = header("options that also accept <key>_cmd / <key>_secret (and AIRFLOW__S__K_CMD / _SECRET)", minor, version, args.cmd)
    lines.append("# source: conf.sensitive_config_values (options marked sensitive, plus their deprecated aliases)")
    lines += [f"{s}.{k}" for s, k in sens]
    write(os.path.join(args.out_dir, f"sensitive-{minor}.txt"), lines)

    if args.removed:
        from airflow.cli.commands import config_command as cc

        rows, skipped = [], []
        for ch in cc.CONFIGS_CHANGES:
            old = f"{ch.config.section}.{ch.config.option}".lower()
            if ch.default_change:
                continue  # default-value change only
            if ch.renamed_to is not None:
                rows.append((old, "renamed_to", f"{ch.renamed_to.section}.{ch.renamed_to.option}".lower()))
            elif ch.was_removed and getattr(ch, "remove_if_equals", None) is None:
                rows.append((old, "removed", ""))
            else:
                skipped.append(old)
        if skipped:
            log(f"removed-3.tsv: skipped conditional/invalid-value rules: {skipped}")
        still_valid = sorted(r[0] for r in rows if tuple(r[0].split(".", 1)) in all_keys)
        if still_valid:
            log(f"note: rules whose old key is still a valid key in {version}: {still_valid}")
        lines = header("Airflow 3 config rename/removal rules (`airflow config lint`): old.key<TAB>renamed_to<TAB>new.key | old.key<TAB>removed<TAB>", "3", version, args.cmd)
        lines.append("# source: airflow.cli.commands.config_command.CONFIGS_CHANGES (introspected); default-value changes and")
        lines.append("#   conditional removals (remove_if_equals, e.g. " + (", ".join(skipped) or "none") + ") are skipped")
        lines += ["\t".join(r) for r in rows]
        write(os.path.join(args.out_dir, "removed-3.tsv"), lines)

    # Cross-check with the CLI.
    cli = config_list_defaults_keys()
    only_cli = sorted(f"{s}.{k}" for s, k in cli - all_keys - set(fallback_only))
    only_list = sorted(f"{s}.{k}" for s, k in all_keys - cli)
    log(f"{version}: {len(keys)} keys, {len(deprecated)} deprecated aliases, {len(sens)} sensitive; "
        f"`config list --defaults` shows {len(cli)} keys")
    if only_cli:
        log(f"cross-check: in `airflow config list --defaults` only: {only_cli}")
    if only_list:
        log(f"cross-check: in the description but not printed by `config list --defaults`: {only_list}")
    if args.strict and (only_cli or only_list):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
