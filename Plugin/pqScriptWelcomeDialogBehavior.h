// When the GUI runs a script (paraview --script=...), closes ParaView's Welcome
// dialog as it opens. ParaView 5.11 opens that modal dialog from a one-shot
// timer one second after the main window shows; a script's layout changes
// (CreateLayout, AssignView, SaveScreenshot of a layout) process pending Qt
// events, so a script that reaches one after that second would wait inside the
// dialog's exec() until someone closes it: forever under xvfb-run. Nobody sits
// at a scripted session to close it. Interactive sessions keep the dialog.
// Loaded with the plugin (an auto-start interface); see
// Documentation/ARCHITECTURE.md, "ParaView 5.11 facts".
#ifndef pqScriptWelcomeDialogBehavior_h
#define pqScriptWelcomeDialogBehavior_h

#include <QObject>

class pqScriptWelcomeDialogBehavior : public QObject
{
  Q_OBJECT
  using Superclass = QObject;

public:
  pqScriptWelcomeDialogBehavior(QObject* parent = nullptr);
  ~pqScriptWelcomeDialogBehavior() override = default;

  void startup();
  void shutdown();

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
};

#endif
