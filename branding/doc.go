// Package branding checks what an operator gives the pages to show for a
// client and for the product (clients[].logoUri, clientUri,
// ui.stylesheet): the configuration refuses at load what the server would
// refuse at start, with the same words.
package branding
