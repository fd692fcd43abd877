"""nbgrader configuration of the StickyLab course (read by every nbgrader command run here).

Instructors run nbgrader from this directory: `solutions/` is the source (with solutions
and hidden tests), `exercises/` the release learners work in. Paths below are relative to
this file's directory unless an environment variable says otherwise.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "stickylab"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook lives beside this file and is never committed (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")



def _set_elsewhere(section: str = "Exchange", option: str = "root") -> bool:
    """True if a global nbgrader config (a JupyterHub's, say) already sets ``section.option``."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    for folder in jupyter_config_path():
        if os.path.abspath(folder) == HERE:
            continue
        for name, loader in (("nbgrader_config.py", PyFileConfigLoader),
                             ("nbgrader_config.json", JSONFileConfigLoader)):
            if os.path.isfile(os.path.join(folder, name)):
                try:
                    found = loader(name, path=folder).load_config()
                except Exception:
                    continue
                if option in found.get(section, {}):
                    return True
    return False


# The exchange: STICKYLAB_EXCHANGE if set; else the one a global nbgrader config names (on
# JupyterHub, /etc/jupyter/nbgrader_config.py: every student's server reads it, and this
# file must not send anyone's submission elsewhere); else a folder here, for a class run on
# one computer.
# A learner who cloned the course submits from this folder by assignment name, as each
# notebook says (`nbgrader submit 02_cookie_affinity --course stickylab`): their work is in
# exercises/.
c.Exchange.assignment_dir = os.path.join(HERE, "exercises")

if os.environ.get("STICKYLAB_EXCHANGE"):
    c.Exchange.root = os.environ["STICKYLAB_EXCHANGE"]
elif not _set_elsewhere():
    c.Exchange.root = os.path.join(HERE, ".exchange")

# Autograding: every cell gets a time limit, and a kernel stuck in a learner's infinite
# loop is interrupted so the rest of the notebook (and the class) is still graded.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 60
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60
# A learner who deleted a test cell gets it back (and is graded on it).
c.OverwriteCells.add_missing_cells = True

# The release keeps no outputs; the stub learners replace.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Learners' code runs in a sandbox, and the test cells that award points run in a separate
# clean process that reaches the learner's objects only across a process boundary
# (src/stickylab/grade/execute.py). Without bubblewrap, grading refuses unless asked to run
# unsandboxed: c.SandboxedExecute.unsafe = True (or STICKYLAB_UNSAFE_GRADING=1).
c.Autograde.autograde_preprocessors = [
    "stickylab.grade.execute.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "stickylab.grade.sanitize.SanitizeLearnerHTML",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Back the gradebook up before a run first writes grades to it. Repair metadata that learners
# damaged (duplicated cells, edited nbgrader metadata) before nbgrader's own checks, so such a
# submission is graded instead of failing to grade.
c.Autograde.sanitize_preprocessors = [
    "stickylab.grade.backup.BackupGradebook",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "stickylab.grade.repair.RepairCellMetadata",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback goes back to the learner: it never shows a hidden test's source (stock nbgrader
# keeps it in the feedback HTML), and it keeps only the (already capped) outputs. Learner
# HTML and script are cleaned after execution (the Formgrader renders the graded notebook in
# the Jupyter server's origin), and again here, so no feedback page runs them either.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
    "stickylab.grade.sanitize.SanitizeLearnerHTML",
]

# `nbgrader collect` copies submissions out of the folder exchange without following a link
# a student left there (src/stickylab/grade/exchange.py); a hub that configures an exchange
# of its own (ngshare, say) keeps it.
if not _set_elsewhere("ExchangeFactory", "collect"):
    c.ExchangeFactory.collect = "stickylab.grade.exchange.SafeCollect"
