// SDL2 (Debian's libsdl2-dev): the agent viewer's window.
#include <SDL2/SDL.h>
