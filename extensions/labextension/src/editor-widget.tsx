// The flow editor as a JupyterLab document widget on the file's text model: a text editor opened on the
// same file ("Open With > Editor") shares the model, so the canvas and the text stay in sync.
import { ReactWidget } from '@jupyterlab/apputils';
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import * as React from 'react';

import { AqtraApi } from './api';
import { FlowEditor, IEditorModel, IFlowActions, OpenInNotebook } from './flow-editor';

export const FACTORY = 'Flow Editor';
export const FILE_TYPE = 'aqtra-flow';

class ContextModel implements IEditorModel {
  constructor(private readonly context: DocumentRegistry.Context) {}

  text(): string {
    return this.context.model.toString();
  }

  setText(text: string): void {
    if (text !== this.text()) {
      this.context.model.fromString(text);
    }
  }

  path(): string {
    return this.context.path;
  }

  save(): Promise<void> {
    return this.context.save();
  }

  undo(): void {
    this.context.model.sharedModel.undo();
  }

  redo(): void {
    this.context.model.sharedModel.redo();
  }

  onChange(callback: () => void): () => void {
    const listener = () => callback();
    this.context.model.contentChanged.connect(listener);
    return () => this.context.model.contentChanged.disconnect(listener);
  }
}

export class FlowCanvas extends ReactWidget {
  /** The editor's actions, for the commands (set on every render of the editor). */
  actions: IFlowActions | null = null;
  private readonly model: ContextModel;

  constructor(
    context: DocumentRegistry.Context,
    private readonly api: AqtraApi,
    private readonly openInNotebook?: OpenInNotebook
  ) {
    super();
    this.model = new ContextModel(context);
    this.addClass('aqtra-flow-editor-widget');
  }

  render(): JSX.Element {
    return (
      <FlowEditor
        model={this.model}
        api={this.api}
        openInNotebook={this.openInNotebook}
        bind={actions => (this.actions = actions)}
      />
    );
  }
}

export class FlowEditorFactory extends ABCWidgetFactory<DocumentWidget<FlowCanvas>, DocumentRegistry.IModel> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<DocumentWidget<FlowCanvas>>,
    private readonly api: AqtraApi,
    private readonly openInNotebook?: OpenInNotebook
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): DocumentWidget<FlowCanvas> {
    const content = new FlowCanvas(context, this.api, this.openInNotebook);
    const widget = new DocumentWidget({ content, context });
    void context.ready.then(() => content.update());
    return widget;
  }
}
