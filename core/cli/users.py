"""Account commands: `python -m core users add|list|set-role|passwd|disable|enable|unlock|log`."""
from __future__ import annotations

import argparse
import getpass
import sys

from core.accounts.roles import ROLES


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _password(args: argparse.Namespace) -> str | None:
    """From standard input with --password-stdin (scripts), else asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        _err("No terminal to ask for the password: pipe it in with --password-stdin.")
        return None
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("The same password again: ") != first:
        _err("The two passwords differ; nothing was changed.")
        return None
    return first


def _run(args: argparse.Namespace) -> int:
    from core.accounts.accounts import AccountError, Accounts
    from core.cases import CaseStore, CaseStoreError
    from core.cli.cases import _default_actor

    try:
        accounts = Accounts(CaseStore.open(args.settings))
        actor = _default_actor(args.settings)
        action = args.action
        if action == "list":
            for a in accounts.list():
                state = "disabled" if a.disabled else ("locked" if a.locked_until else "active")
                last = f"{a.last_login:%Y-%m-%d %H:%M} UTC" if a.last_login else "never"
                print(f"{a.name}\t{a.role}\t{state}\tlast sign-in {last}")
            return 0
        if action == "log":
            for e in accounts.events(args.limit):
                print(f"{e.at:%Y-%m-%d %H:%M:%S} UTC\t{e.actor}\t{e.action}\t{e.target}\t{e.detail}")
            return 0
        if action in ("add", "passwd"):
            password = _password(args)
            if password is None:
                return 2
            if action == "add":
                account = accounts.add(args.name, args.role, password, actor)
                print(f"added {account.name} ({account.role})")
            else:
                accounts.set_password(args.name, password, actor)
                print(f"password of {args.name} changed; its sessions were ended")
        elif action == "set-role":
            accounts.set_role(args.name, args.role, actor)
            print(f"{args.name} is now {args.role}; its sessions were ended")
        elif action in ("disable", "enable"):
            accounts.set_disabled(args.name, action == "disable", actor)
            print(f"{args.name} disabled; its sessions were ended" if action == "disable" else f"{args.name} enabled")
        elif action == "unlock":
            accounts.unlock(args.name, actor)
            print(f"{args.name} unlocked")
    except (AccountError, CaseStoreError) as exc:
        _err(str(exc))
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="local user accounts for accounts mode (DERMADESK_AUTH=accounts)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=tuple(ROLES), help="; ".join(ROLES.values()))
    passwd = actions.add_parser("passwd", help="set a new password (ends the account's sessions)")
    passwd.add_argument("name")
    for parser in (add, passwd):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
    role = actions.add_parser("set-role", help="change an account's role (ends its sessions)")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=tuple(ROLES))
    for name, text in (("disable", "refuse sign-in and end the account's sessions"), ("enable", "allow sign-in again"),
                       ("unlock", "lift a lock-out after wrong passwords")):
        actions.add_parser(name, help=text).add_argument("name")
    actions.add_parser("list", help="accounts, roles and last sign-in")
    log = actions.add_parser("log", help="the accounts' audit trail, newest first")
    log.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=_run)
