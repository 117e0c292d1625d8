/**
 * What a browser sees when a `/session/start` link cannot sign it in: a page that says why and
 * where to go, instead of the JSON an API client gets. Static text only: nothing from the
 * request is echoed.
 */
export function sessionStartPage(problem: 'spent' | 'bad_next'): string {
  const [title, text] =
    problem === 'spent'
      ? [
          'This sign-in link has expired or was already used',
          'Sign-in links work once and for a few minutes. Go back to the app and open billing again: it creates a fresh link.',
        ]
      : [
          'This sign-in link points to a page that is not on this site',
          'The link was not used, so it still works from the app that sent it. Ask its developers to link to a page such as /billing.',
        ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} — tokenmeter</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2937}
a{color:#1d4ed8}</style></head>
<body><main><h1>${title}</h1><p>${text}</p><p><a href="/billing">Go to billing</a></p></main></body></html>`;
}

/** A browser navigating asks for HTML and not JSON; an API client (or no Accept at all) gets JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  return accept?.includes('text/html') === true && !accept.includes('application/json');
}
