# Real work with each project added from PyPI, in larder's wasm runtime;
# one line per project, compared by tests/host/add.test.js.
import io

import rich.console, rich.table
out = io.StringIO()
table = rich.table.Table("name", "value")
table.add_row("pi", "3.14")
rich.console.Console(file=out, width=40, color_system=None).print(table)
print("rich", "pi" in out.getvalue() and "3.14" in out.getvalue())

import networkx as nx
g = nx.Graph([(1, 2), (2, 3), (3, 4), (1, 4), (4, 5)])
print("networkx", nx.shortest_path(g, 1, 5), nx.diameter(g))

from bs4 import BeautifulSoup
soup = BeautifulSoup("<ul><li class=a>x</li><li>y</li></ul>", "html.parser")
print("beautifulsoup4", [li.text for li in soup.select("li")], soup.select_one(".a").text)

import click
from click.testing import CliRunner
@click.command()
@click.option("--n", type=int)
def twice(n):
    click.echo(n * 2)
print("click", CliRunner().invoke(twice, ["--n", "21"]).output.strip())

import jsonschema
schema = {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}}
jsonschema.validate({"age": 3}, schema)
try:
    jsonschema.validate({"age": -1}, schema)
    print("jsonschema no error")
except jsonschema.ValidationError as e:
    print("jsonschema", e.validator, e.validator_value)

import pygments, pygments.lexers, pygments.formatters
html = pygments.highlight("x = 1", pygments.lexers.PythonLexer(), pygments.formatters.HtmlFormatter())
print("pygments", html.count('<span class="mi">1</span>'))

import dateutil.parser, dateutil.relativedelta
d = dateutil.parser.parse("2026-12-02T17:40:00Z")
print("python-dateutil", (d + dateutil.relativedelta.relativedelta(months=+3)).date())

import pytz, datetime
paris = pytz.timezone("Europe/Paris").localize(datetime.datetime(2026, 7, 1, 12))
print("pytz", paris.utcoffset())

import zoneinfo, tzdata
print("tzdata", datetime.datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).utcoffset())

import attrs
@attrs.define
class P:
    x: int
    y: int = 0
print("attrs", P(1), attrs.asdict(P(2, 3)))

from packaging.version import Version
from packaging.specifiers import SpecifierSet
print("packaging", Version("2.0rc1").is_prerelease, Version("1.10") in SpecifierSet(">=1.9,<2"))

import pyparsing as pp
expr = pp.Word(pp.nums) + pp.one_of("+ -") + pp.Word(pp.nums)
print("pyparsing", expr.parse_string("12 + 30").as_list())

import sympy
x = sympy.Symbol("x")
print("sympy", sympy.integrate(sympy.sin(x) ** 2, x))
