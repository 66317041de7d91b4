# SPDX-License-Identifier: Apache-2.0
# ZU_CHECK_CFLAG(FLAG, [IF-OK], [IF-NOT]) -- does the C compiler accept FLAG (with -Werror)?
AC_DEFUN([ZU_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([zu_var], [zu_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [zu_var], [
    zu_save_CFLAGS=$CFLAGS
    zu_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    LDFLAGS="$LDFLAGS $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
      [AS_VAR_SET([zu_var], [yes])], [AS_VAR_SET([zu_var], [no])])
    CFLAGS=$zu_save_CFLAGS
    LDFLAGS=$zu_save_LDFLAGS])
  AS_VAR_IF([zu_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([zu_var])
])
# ZU_CHECK_LDFLAG(FLAG, [IF-OK], [IF-NOT]) -- does the linker accept FLAG?
AC_DEFUN([ZU_CHECK_LDFLAG], [
  AS_VAR_PUSHDEF([zu_var], [zu_cv_ldflag_$1])
  AC_CACHE_CHECK([whether the linker accepts $1], [zu_var], [
    zu_save_LDFLAGS=$LDFLAGS
    LDFLAGS="$LDFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
      [AS_VAR_SET([zu_var], [yes])], [AS_VAR_SET([zu_var], [no])])
    LDFLAGS=$zu_save_LDFLAGS])
  AS_VAR_IF([zu_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([zu_var])
])
