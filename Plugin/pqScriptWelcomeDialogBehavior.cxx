#include "pqScriptWelcomeDialogBehavior.h"

#include "pqCoreConfiguration.h"

#include <QApplication>
#include <QDialog>
#include <QEvent>

#include <iostream>

pqScriptWelcomeDialogBehavior::pqScriptWelcomeDialogBehavior(QObject* parent)
  : Superclass(parent)
{
}

void pqScriptWelcomeDialogBehavior::startup()
{
  if (qApp && !pqCoreConfiguration::instance()->pythonScript().empty())
  {
    qApp->installEventFilter(this);
  }
}

void pqScriptWelcomeDialogBehavior::shutdown()
{
  if (qApp)
  {
    qApp->removeEventFilter(this);
  }
}

bool pqScriptWelcomeDialogBehavior::eventFilter(QObject* watched, QEvent* event)
{
  if (event->type() == QEvent::Show && watched->inherits("pqWelcomeDialog"))
  {
    if (auto* dialog = qobject_cast<QDialog*>(watched))
    {
      // Queued: exec() enters its event loop after showing; a rejection from
      // inside the show would come before that loop and never end it.
      QMetaObject::invokeMethod(dialog, "reject", Qt::QueuedConnection);
      std::cout << "DualEmbed: closed ParaView's Welcome dialog (the GUI runs a script)."
                << std::endl;
    }
  }
  return this->Superclass::eventFilter(watched, event);
}
