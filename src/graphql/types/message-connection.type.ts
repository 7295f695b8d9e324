import { Message } from '../../domain/message/message.entity';
import { connectionType } from './connection.type';

export const MessageConnection = connectionType(Message, 'Message');
