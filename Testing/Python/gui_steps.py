"""Steps of a GUI test that runs inside paraview (paraview --dr --script=...; it quits ParaView
itself). PyQt5 (Debian's python3-pyqt5, on the same Qt as ParaView) only finds widgets and reads
their state; clicks and typing are real X events from xdotool. Screenshots (imagemagick's
import) go to DUALEMBED_TEST_OUTPUT_DIR as <name>-<step>.png.

    steps = gui_steps.Steps("TestGuiPanels")
    @steps.add(1500)           # run 1.5 s after the step before
    def apply(): ...           # raise NotYet to retry until the deadline, Failure to stop
    steps.run(timeout_s=240)

ParaView handles the X events a step sends only after the step returns: a key that must take
effect before a drag (Select Points On, then the rectangle) goes in a step of its own.
"""
import os
import subprocess
import time
import traceback

from PyQt5 import QtCore, QtWidgets

app = QtWidgets.QApplication.instance()
out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR", ".")


class Failure(Exception):
    pass


class NotYet(Failure):
    """The GUI has not got there yet: the step is retried until its deadline."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def xdotool(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True)


def main_window():
    return [w for w in app.topLevelWidgets() if w.objectName() == "pqClientMainWindow"][0]


def panel():
    """The Properties panel's pqProxyWidget of the active source."""
    panels = [w for w in main_window().findChildren(QtWidgets.QWidget, "ProxyPanel")
              if w.isVisible() and w.parentWidget().objectName() == "PropertiesFrame"]
    if len(panels) != 1:
        raise NotYet("expected one visible Properties panel, found %d" % len(panels))
    return panels[0]


def property_widget(name):
    widgets = [w for w in panel().findChildren(QtWidgets.QWidget, name) if w.inherits("pqPropertyWidget")]
    if not widgets or not widgets[0].isVisible():
        raise NotYet("the panel shows no %s" % name)
    return widgets[0]


def visible_labels():
    return {label.text() for label in panel().findChildren(QtWidgets.QLabel) if label.isVisible()}


def click(widget):
    centre = widget.mapToGlobal(widget.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


def toolbar_button(action):
    """The visible tool button of the QAction named `action` (e.g. actionCompareEmbeddings)."""
    buttons = [b for b in main_window().findChildren(QtWidgets.QToolButton)
               if b.defaultAction() is not None and b.defaultAction().objectName() == action and b.isVisible()]
    check(buttons, "no %s button in the toolbars" % action)
    return buttons[0]


def apply_button():
    return [b for b in main_window().findChildren(QtWidgets.QPushButton, "Accept") if b.isVisible()][0]


def type_into(line_edit, text):
    """Replaces the text of `line_edit` by typing, as a user does (focus, select all, type)."""
    line_edit.setFocus()
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+a")
    xdotool("type", "--delay", 2, text)


class Steps:
    def __init__(self, name):
        self.name = name
        self.steps = []

    def screenshot(self, step):
        path = os.path.join(out_dir, "%s-%s.png" % (self.name, step))
        subprocess.run(["import", "-window", "root", path], check=True)
        print("screenshot " + path)

    def add(self, delay_ms, patience_s=20):
        """A step run `delay_ms` after the one before, retried (NotYet) for `patience_s` more."""
        def add(function):
            self.steps.append((delay_ms, patience_s, function))
            return function
        return add

    def run(self, timeout_s=240, passed="passed"):
        """Runs the steps from the Qt event loop; prints `passed` after the last one."""
        self.passed = passed
        # ParaView's own test timeout would leave a hung GUI to CTest's; stop earlier with a message.
        QtCore.QTimer.singleShot(timeout_s * 1000, lambda: (print("FAILED: %s timed out" % self.name), stop()))
        self._next()

    def fail(self, message):
        print(message)
        self.screenshot("failed")  # what the GUI showed when it went wrong
        stop()

    def _next(self):
        if not self.steps:
            print(self.passed)
            app.quit()
            return
        delay, patience, function = self.steps.pop(0)
        deadline = time.time() + delay / 1000.0 + patience  # a busy machine draws late

        def call():
            try:
                function()
            except NotYet as error:
                if time.time() < deadline:
                    QtCore.QTimer.singleShot(250, call)
                    return
                self.fail("FAILED: %s" % error)
                return
            except Exception as error:  # an exception must not leave a Qt slot
                self.fail("FAILED: %s" % error if isinstance(error, Failure) else traceback.format_exc())
                return
            self._next()
        QtCore.QTimer.singleShot(delay, call)


def stop():
    if app.activeModalWidget() is not None:
        app.activeModalWidget().reject()
    app.quit()
