"""pypi_values.py - what the packages cross-compiled from PyPI's sdists
(make pypi) compute, as JSON on stdout; tests/node/pypi.test.js runs it in
wasm and on the host (the host's wheels of the same versions) and compares.
Each section also says whether the package's extension module is the
compiled one (loaded from a .so), not a pure-Python fallback."""
import io
import json
import sys

out = {}


def compiled(mod):
    return getattr(sys.modules[mod], "__file__", "").endswith(".so")


# pandas: the operations people do first
import pandas as pd

csv = """city,day,temp,rain
Oslo,2023-01-02,-3.5,1.2
Oslo,2023-01-03,-1.0,0.0
Lima,2023-01-02,24.1,0.0
Lima,2023-01-03,25.3,0.4
Pune,2023-01-02,28.0,
Pune,2023-01-03,29.5,3.1
"""
df = pd.read_csv(io.StringIO(csv), parse_dates=["day"])
info = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "country": ["NO", "PE", "IN"]})
merged = df.merge(info, on="city", how="left")
agg = df.groupby("city").agg(tmin=("temp", "min"), tmax=("temp", "max"), rain=("rain", "sum"))
pivot = merged.pivot_table(index="country", columns=df["day"].dt.day, values="temp", aggfunc="mean")
out["pandas"] = {
    "version": pd.__version__,
    "compiled": compiled("pandas._libs.lib") and compiled("pandas._libs.groupby"),
    "dtypes": {k: str(v) for k, v in df.dtypes.items()},
    "agg": json.loads(agg.to_json()),
    "merge": json.loads(merged.to_json(orient="split", date_format="iso")),
    "pivot": json.loads(pivot.to_json()),
    "describe": json.loads(df.describe().to_json()),
    "dates": {
        "weekday": list(df["day"].dt.day_name()),
        "plus": [str(d) for d in df["day"] + pd.Timedelta(days=30)],
        "range": [str(d) for d in pd.date_range("2023-01-29", periods=4, freq="M")],
        "resample": json.loads(df.set_index("day")["temp"].resample("D").mean().to_json()),
    },
    "rolling": list(df["temp"].rolling(2).mean().fillna(-99).round(6)),
    "isna": int(df["rain"].isna().sum()),
}

# PyYAML with libyaml's C loader and dumper
import yaml

doc = "name: larder\nitems: [1, 2.5, true, null]\nnested: {a: [x, y], b: 'q'}\n"
out["yaml"] = {
    "with_libyaml": yaml.__with_libyaml__,
    "compiled": compiled("yaml._yaml"),
    "load": yaml.load(doc, Loader=yaml.CLoader),
    "dump": yaml.dump({"b": [1, {"c": None}], "a": "text"}, Dumper=yaml.CDumper),
}

# MarkupSafe's C speedups, and Jinja2 (pure) rendering over them
import markupsafe
import jinja2

env = jinja2.Environment(autoescape=True)
tpl = env.from_string("<ul>{% for i in items %}<li>{{ i }}</li>{% endfor %}</ul>{{ n|round(2) }}")
out["markupsafe"] = {
    "compiled": compiled("markupsafe._speedups"),
    "escape": str(markupsafe.escape("<a href='x'>&\"</a>")),
    "jinja2": tpl.render(items=["<b>", "a & b"], n=3.14159),
}

# msgpack's Cython extension
import msgpack

obj = {"a": [1, -2, 2**40, 1.5, "é", b"\x00\x01", None, True], "b": {"c": []}}
packed = msgpack.packb(obj)
out["msgpack"] = {
    "compiled": compiled("msgpack._cmsgpack") and msgpack.Packer.__module__ == "msgpack._cmsgpack",
    "packed": packed.hex(),
    "roundtrip": repr(msgpack.unpackb(packed)),
}

# regex's C engine
import regex

out["regex"] = {
    "compiled": compiled("regex._regex"),
    "named": regex.match(r"(?<word>\w+)\s+(?<cap>\p{Lu}\w*)", "hello World").groupdict(),
    "fuzzy": bool(regex.fullmatch(r"(?:colour){e<=1}", "color")),
    "findall": regex.findall(r"\p{Greek}+", "alpha αβγ beta δε"),
    "sub": regex.sub(r"(?r)\d", "#", "a1b22c333", count=4),
}

# lxml over libxml2 and libxslt: parsing, XPath, XSLT
from lxml import etree

root = etree.fromstring(b"<?xml version='1.0'?><lib><book id='1' year='1999'><t>Dune</t></book>"
                        b"<book id='2' year='2004'><t>Anathem &amp; co</t></book></lib>")
xslt = etree.XSLT(etree.fromstring(b"""<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="html" indent="no"/>
  <xsl:template match="/lib"><table><xsl:apply-templates select="book">
    <xsl:sort select="@year" data-type="number" order="descending"/></xsl:apply-templates></table></xsl:template>
  <xsl:template match="book"><tr><td><xsl:value-of select="@id"/></td><td><xsl:value-of
    select="t"/></td><td><xsl:value-of select="@year * 2"/></td></tr></xsl:template>
</xsl:stylesheet>"""))
out["lxml"] = {
    "compiled": compiled("lxml.etree"),
    "xpath": root.xpath("//book[@year > 2000]/t/text()") + [str(root.xpath("count(//book)"))],
    "tostring": etree.tostring(root.find("book"), encoding="unicode"),
    "xslt": str(xslt(root)),
}

json.dump(out, sys.stdout, sort_keys=True)
