// Xlib with the shared-memory (XShm) and XTest extensions: the end user's screen capture and input
// injection (Debian's libx11-dev, libxext-dev, libxtst-dev).
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/Xatom.h>
#include <X11/keysym.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <sys/ipc.h>
#include <sys/shm.h>
