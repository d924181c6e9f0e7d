// Moving between pages. The address always names the page shown: a new history entry for a page the
// user asked for, or the current entry replaced when the page that led here has done its work (the
// sign-in form, a create form, step 2), so Back does not open it again. A message for the status line
// may be carried to the next page (the status line is cleared on every other navigation).

let router = null;
let carried = null;

export function onNavigate(render) {
  router = render;
}

export function navigate(hash, { replace = false, message = null, kind = 'info' } = {}) {
  carried = message ? { message, kind } : null;
  if (replace) {
    history.replaceState(history.state, '', hash);
    router?.();
  } else if (location.hash === hash) {
    router?.(); // the same page again: show it anew
  } else {
    location.hash = hash; // the hashchange renders it
  }
}

/** The message carried to the page being shown, once. */
export function takeCarried() {
  const message = carried;
  carried = null;
  return message;
}
