"""Script in HTML, JavaScript and SVG outputs, and in a markdown cell: live in the feedback and in
the Formgrader, which runs in the Jupyter server's origin with the instructor's rights."""
import stickylab as sl

# %% first-sticky
from IPython.display import HTML, SVG, Javascript, display

display(HTML('<img src="x" onerror="document.title=\'pwned-html\'">'))
display(Javascript("document.title = 'pwned-js'"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>document.title="pwned-svg"</script></svg>'))
#include _wrong
