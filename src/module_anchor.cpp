// Compiled into every module library so that a module with no sources of its own yet still
// forms a valid (empty) static library.
namespace failoverd {}
