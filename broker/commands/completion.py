"""``broker completion bash|zsh|fish``: shell completion generated from the parser itself.

The script carries the command tree (subcommands, options, which options take a value) as
data taken from ``broker.cli.build_parser`` when it is generated, so it never goes stale
against this version's commands. Names that change — profiles, providers, accounts — are
asked of ``broker completion --names KIND`` at each Tab, which reads ``broker.toml`` and the
store's index only: completing never signs in, never reads the keyring, never mints.

What a word completes to is read off the parser too: a positional or option called
``profile``/``profiles`` takes profiles, ``provider`` providers, ``account``/``zone_account``
accounts, ``config`` directories; a positional with choices takes those.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["CommandSpec", "command_specs", "list_names", "register", "render_script"]

KINDS = ("profiles", "providers", "accounts")
_DEST_KINDS = {
    "profile": "profiles",
    "profiles": "profiles",
    "provider": "providers",
    "account": "accounts",
    "zone_account": "accounts",
    "config": "dirs",
}


@dataclass
class CommandSpec:
    """One command path's completion facts: ``_`` is the top level, ``_/exec`` its ``exec``
    (keys of shell arrays: never empty, no spaces or quotes, the same in bash and zsh)."""

    path: str
    subcommands: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    valued: list[str] = field(default_factory=list)  # options that take a value
    option_kinds: dict[str, str] = field(default_factory=dict)
    positionals: list[str] = field(default_factory=list)  # kind per position ("-": none)
    repeat_last: bool = False  # the last positional takes many words


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[CommandSpec]:
    spec = CommandSpec(path)
    children: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                spec.subcommands.append(name)
                children.append((name, child))
            continue
        if action.help == argparse.SUPPRESS:
            continue
        kind = _DEST_KINDS.get(action.dest)
        if action.option_strings:
            spec.options.extend(action.option_strings)
            if action.nargs != 0:
                spec.valued.extend(action.option_strings)
                for option in action.option_strings:
                    if kind:
                        spec.option_kinds[option] = kind
        elif action.nargs != argparse.REMAINDER:
            if kind is None and action.choices:
                kind = "=" + ",".join(str(choice) for choice in action.choices)
            spec.positionals.append(kind or "-")
            spec.repeat_last = action.nargs in ("+", "*")
    yield spec
    for name, child in children:
        yield from _walk(child, f"{path}/{name}")


def command_specs() -> list[CommandSpec]:
    """Every command path of this version's command line."""
    from broker.cli import build_parser

    return list(_walk(build_parser(), "_"))


def _bash_array(name: str, entries: dict[str, str]) -> str:
    """One assignment a line (``a[key]=value`` reads the same in bash and zsh)."""
    return "\n".join(f"_broker_{name}[{key}]={_quote(value)}" for key, value in entries.items())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# ``cmd``, not ``path``: in zsh ``path`` is tied to ``$PATH``.
_BASH_FUNCTION = r"""
_broker_names() {
  "${COMP_WORDS[0]}" completion --names "$1" 2>/dev/null
}

_broker_words() {
  local kind=$1 cur=$2
  case $kind in
    dirs) COMPREPLY=($(compgen -d -- "$cur")) ;;
    profiles|providers|accounts) COMPREPLY=($(compgen -W "$(_broker_names "$kind")" -- "$cur")) ;;
    =*) kind=${kind#=}; COMPREPLY=($(compgen -W "${kind//,/ }" -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}

_broker() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd=_ npos=0 i w skip=0
  (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if (( skip )); then skip=0; continue; fi
    if [[ $w == -- ]]; then COMPREPLY=(); return 0; fi  # the rest is another command's
    if [[ $w == -* ]]; then
      [[ $w != *=* && " ${_broker_valued[$cmd]} " == *" $w "* ]] && skip=1
      continue
    fi
    if (( npos == 0 )) && [[ " ${_broker_subs[$cmd]} " == *" $w "* ]]; then
      cmd=$cmd/$w
    else
      npos=$((npos + 1))
    fi
  done
  if [[ $prev == -* && " ${_broker_valued[$cmd]} " == *" $prev "* ]]; then
    _broker_words "${_broker_optkind[$cmd/$prev]}" "$cur"
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${_broker_opts[$cmd]}" -- "$cur"))
    return 0
  fi
  if (( npos == 0 )) && [[ -n ${_broker_subs[$cmd]} ]]; then
    COMPREPLY=($(compgen -W "${_broker_subs[$cmd]}" -- "$cur"))
    return 0
  fi
  local kinds=(${_broker_pos[$cmd]}) kind=""
  if (( npos < ${#kinds[@]} )); then
    kind=${kinds[npos]}
  elif [[ ${_broker_repeat[$cmd]} == 1 ]] && (( ${#kinds[@]} )); then
    kind=${kinds[${#kinds[@]}-1]}
  fi
  _broker_words "$kind" "$cur"
  return 0
}
"""


def _bash(specs: list[CommandSpec]) -> str:
    tables = [
        _bash_array("subs", {s.path: " ".join(s.subcommands) for s in specs if s.subcommands}),
        _bash_array("opts", {s.path: " ".join(s.options) for s in specs}),
        _bash_array("valued", {s.path: " ".join(s.valued) for s in specs if s.valued}),
        _bash_array(
            "optkind",
            {f"{s.path}/{o}": k for s in specs for o, k in s.option_kinds.items()},
        ),
        _bash_array("pos", {s.path: " ".join(s.positionals) for s in specs if s.positionals}),
        _bash_array("repeat", {s.path: "1" for s in specs if s.repeat_last}),
    ]
    declare = "declare -gA _broker_subs _broker_opts _broker_valued _broker_optkind _broker_pos"
    return "\n".join([declare + " _broker_repeat", *tables, _BASH_FUNCTION.strip()])


def _fish(specs: list[CommandSpec]) -> str:
    """fish: top-level commands, each command's options and subcommands, and the names."""
    lines = ["complete -c broker -f"]
    names = "(broker completion --names {} 2>/dev/null)"
    for spec in specs:
        words = spec.path.split("/")[1:]
        if len(words) > 1:
            continue  # fish gets one level of subcommands; deeper words complete as options
        if not words:
            condition = "__fish_use_subcommand"
        else:
            condition = f"__fish_seen_subcommand_from {words[0]}"
        for sub in spec.subcommands:
            lines.append(f"complete -c broker -n {_quote(condition)} -a {_quote(sub)}")
        for option in spec.options:
            if not option.startswith("--"):
                continue
            kind = spec.option_kinds.get(option)
            extra = " -r" if option in spec.valued else ""
            if kind in KINDS:
                extra += f" -x -a {_quote(names.format(kind))}"
            elif kind == "dirs":
                extra += " -x -a '(__fish_complete_directories)'"
            lines.append(f"complete -c broker -n {_quote(condition)} -l {option[2:]}{extra}")
        kinds = {k for k in spec.positionals if k in KINDS}
        for kind in sorted(kinds):
            lines.append(
                f"complete -c broker -n {_quote(condition)} -a {_quote(names.format(kind))}"
            )
    return "\n".join(lines)


def render_script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    specs = command_specs()
    if shell == "fish":
        return _fish(specs) + "\n"
    script = _bash(specs) + "\n"
    if shell == "zsh":
        # zsh runs the bash function through its own bash-completion emulation.
        return (
            "autoload -U +X bashcompinit && bashcompinit\n"
            + script
            + "complete -o default -F _broker broker\n"
        )
    return script + "complete -o default -F _broker broker\n"


def list_names(kind: str) -> list[str]:
    """Profiles, providers or accounts known here, from ``broker.toml`` and the store's
    index (never the keyring, never the network)."""
    from broker.client.profiles import load_profiles
    from broker.config import data_dir, load_config
    from broker.store.index import IndexFile

    config = load_config()
    index = IndexFile(data_dir() / "store").read()
    if kind == "providers":
        from broker.config.providers import provider_tables

        return sorted(provider_tables(config))
    profiles = load_profiles(config)
    if kind == "profiles":
        return sorted({*profiles, *index.assignments, *index.profiles})
    return sorted(
        {
            *(p.account for p in profiles.values()),
            *(row.account for row in index.assignments.values()),
            *(row.account for row in index.profiles.values()),
        }
    )


def _handle(args: argparse.Namespace) -> int:
    from broker.errors import UsageError

    if args.names:
        sys.stdout.write("".join(f"{name}\n" for name in list_names(args.names)))
        return 0
    if args.shell is None:
        raise UsageError("name a shell: `broker completion bash|zsh|fish`")
    sys.stdout.write(render_script(args.shell))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``broker completion``."""
    parser = sub.add_parser(
        "completion",
        help="shell completion script (bash, zsh, fish)",
        description="Print a completion script; e.g. `source <(broker completion bash)` in "
        "~/.bashrc, `broker completion fish > ~/.config/fish/completions/broker.fish`.",
    )
    parser.add_argument("shell", nargs="?", choices=("bash", "zsh", "fish"))
    parser.add_argument("--names", choices=KINDS, help=argparse.SUPPRESS)
    parser.set_defaults(handler=_handle)
