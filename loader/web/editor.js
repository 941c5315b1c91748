/*
 * editor.js - the playground's code editor: CodeMirror 6 with Python
 * highlighting (from npm, bundled by esbuild). A module of its own, which
 * playground.js imports when the interpreter starts (larder.js, starting):
 * the page's script that starts the interpreter is a few KB, and this
 * 460 KB of CodeMirror is evaluated after it, while CPython starts.
 *
 *   createEditor({ doc, parent, onRun, onChange }) -> EditorView
 *     onRun(): Mod-Enter; onChange(text): after each edit.
 */
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { python } from '@codemirror/lang-python';

export function createEditor({ doc, parent, onRun, onChange }) {
  return new EditorView({
    doc,
    parent,
    extensions: [basicSetup, python(), keymap.of([{ key: 'Mod-Enter', run: () => { onRun(); return true; } }]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChange(u.state.doc.toString());
      })],
  });
}
