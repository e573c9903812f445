"""``chainrule explain``: run the notes' worked examples and show them step by step.

    chainrule explain [chain-rule|four-vertex|log-softmax|feedforward] [--dot FILE] [--html FILE]

Without an example name, all four are printed. ``--dot`` writes the example's
graph as Graphviz source, ``--html`` the interactive page (``chainrule.page``):
one self-contained file that steps through both passes. ``chainrule.cli`` mounts this module with
``add_parser``; ``python -m chainrule.explain_cli`` runs it on its own.
"""
import argparse
import sys

from .examples import EXAMPLES
from .page import to_html

DESCRIPTION = ("Run the worked examples of the notes on computational graphs and "
               "backpropagation, printing the forward and backward passes with the numbers.")


def configure(parser):
    """Add the explain command's arguments to ``parser``."""
    parser.add_argument("example", nargs="?", choices=list(EXAMPLES),
                        help="which example (default: all of them)")
    parser.add_argument("--dot", metavar="FILE",
                        help="also write the example's graph as Graphviz DOT source to FILE")
    parser.add_argument("--html", metavar="FILE",
                        help="also write a standalone HTML page of the example to FILE")
    return parser


def add_parser(subparsers):
    """Register ``explain`` on an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser("explain", help="run the notes' worked examples step by step",
                              description=DESCRIPTION)
    configure(p)
    p.set_defaults(func=run)
    return p


def run(args):
    """Run ``chainrule explain`` with parsed ``args``; returns the exit code."""
    names = [args.example] if args.example else list(EXAMPLES)
    dot_file, html_file = getattr(args, "dot", None), getattr(args, "html", None)
    if (dot_file or html_file) and len(names) > 1:
        print("chainrule explain: --dot and --html write one graph; name the example, e.g. "
              "`chainrule explain four-vertex --dot four.dot`", file=sys.stderr)
        return 2
    for k, name in enumerate(names):
        ex = EXAMPLES[name]()
        if k:
            print()
        print(ex.text)
    try:
        if dot_file:
            with open(dot_file, "w", encoding="utf-8") as fh:
                fh.write(ex.graph.to_dot())
            print(f"\nWrote the graph's DOT source to {dot_file} "
                  f"(draw it with: dot -Tsvg {dot_file} -o graph.svg)")
        if html_file:
            to_html(ex.graph, html_file, title=ex.title, text=ex.text)
            print(f"\nWrote {html_file}: the interactive page (open it in a browser; "
                  f"it needs no network)")
    except OSError as e:
        print(f"chainrule explain: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = configure(argparse.ArgumentParser(prog="chainrule explain",
                                               description=DESCRIPTION))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
