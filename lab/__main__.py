"""python -m lab up|down|status|images|exec HOST -- CMD...|memory|snapshot|podman-env"""

import argparse
import json
import sys

from lab import config, hosts, images, lifecycle, snapshot
from lab.shell import LabError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab", description="The sipvs.lvs test bed.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up", help="build missing images, start everything, wait until every host answers (nothing if it runs)"
    )
    commands.add_parser("down", help="remove everything the lab made; safe to run twice")
    commands.add_parser("status", help="what runs, addresses, memory")
    commands.add_parser("images", help="build missing images (VM base image, podman images)")
    commands.add_parser("memory", help="RSS per lab host in KiB, as JSON")
    commands.add_parser("snapshot", help="host state the lab could leave behind, as JSON")
    commands.add_parser("podman-env", help="print the exports that select the lab's podman config")
    exec_parser = commands.add_parser("exec", help="run a command on a lab host: exec HOST -- CMD [ARGS...]")
    exec_parser.add_argument("host", choices=list(config.HOSTS_BY_NAME))
    exec_parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            lifecycle.ensure_up()
        elif args.command == "down":
            lifecycle.down()
        elif args.command == "status":
            lifecycle.status()
        elif args.command == "images":
            images.build_all()
        elif args.command == "memory":
            print(json.dumps(lifecycle.memory_report(), indent=1))
        elif args.command == "snapshot":
            print(json.dumps(snapshot.take(), indent=1))
        elif args.command == "podman-env":
            for key, value in config.PODMAN_ENV.items():
                print("export %s=%s" % (key, value))
        elif args.command == "exec":
            remote = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            if not remote:
                parser.error("exec needs a command: exec HOST -- CMD [ARGS...]")
            return hosts.run(args.host, remote, timeout=None, capture=False).returncode
    except LabError as error:
        print("lab: error: %s" % error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
