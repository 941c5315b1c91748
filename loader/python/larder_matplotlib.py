"""larder_matplotlib - matplotlib's backend in the larder runtime.

Figures are drawn with Agg; plt.show() sends each open figure as a PNG to
the page through the runtime's display hook (the playground shows it in the
output, in order with the printed text) and closes it. The runtime selects
it (MPLBACKEND=module://larder_matplotlib) when the page gives a display
callback; without one, matplotlib's default Agg backend is used.
"""
import io

import _larder
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import _Backend
from matplotlib.backends.backend_agg import _BackendAgg


def display_figure(figure, **savefig_kwargs):
    """Send one figure to the page as a PNG (savefig's keywords apply)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", **savefig_kwargs)
    _larder.display("image/png", buf.getvalue())


@_Backend.export
class _BackendLarder(_BackendAgg):
    @classmethod
    def show(cls, *, block=None):
        for manager in Gcf.get_all_fig_managers():
            display_figure(manager.canvas.figure)
        Gcf.destroy_all()
